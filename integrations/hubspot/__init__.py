"""The HubSpot CRM source: companies, contacts, deals, owners and company associations.

`hubspot_source(config)` is a dlt source named `hubspot` (it lands in `raw_hubspot`):

- companies, contacts, deals (key `id`, merge): resource `<type>` searches the live records
  whose modification property is >= its cursor; resource `<type>_archived` lists
  `archived=true` records, cursor `archivedAt`;
- owners (key `id`, merge): resources `owners` and `owners_archived` read the owner lists,
  cursor `updatedAt`;
- company_contacts (key `from_id`, `to_id`; merge): resource `company_contacts` batch-reads
  the companies of each page of changed contacts; `company_contacts_archived` takes an
  archived contact's `associatedcompanyid`;
- company_deals (key `from_id`, `to_id`; merge): resource `company_deals` batch-reads the
  companies of each page of changed deals.

Why two resources per table: live records come from the search (filterable by time, so
incremental at the vendor), archived ones only from the list endpoint (not filterable, so
read whole and filtered by their own cursor). One cursor for both would let a record archived
during a run move the live cursor past records not yet read, or the reverse. Within a load,
the newer version of a record wins (`dedup_sort` on the modification time), so a record
archived mid-run is stored archived. Nothing archived is dropped: it stays with
`archived = true`.

Association tables hold "company `from_id` has contact/deal `to_id`". They follow the pages of
changed contacts and deals (a contact's companies change only with the contact), one batch
read per page; each changed object's rows are replaced as a set (merge key `to_id`), so an
association that ended disappears with it. An archived contact keeps its company row, marked
`archived`. An archived deal keeps its last rows: HubSpot does not report the associations
of archived deals; `deals.archived` says the deal is gone.

Column types, `dedup_sort` and the association merge key are declared on the source's schema
rather than as resource hints: dlt copies a resource's hints into the `_quarantine` table
variant (a merge key there fails every load with a quarantined row), and hints given as
functions instead make dlt compute the table schema record by record (4x slower).
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from typing import Any

import dlt
from dlt.common.schema import Schema
from dlt.common.schema.typing import TColumnSchema
from dlt.common.schema.utils import new_table
from dlt.extract import DltResource, DltSource
from dlt.extract.hints import HintsMeta

from csp.settings import VendorConfig
from integrations.contracts import QUARANTINE_TABLE, CheckedPage, apply_contract
from integrations.http import VendorSession
from integrations.hubspot import settings
from integrations.hubspot.client import HubSpotClient, authorize, hubspot_session
from integrations.hubspot.search import modified_since
from integrations.hubspot.settings import AssociationSpec, ObjectSpec

__all__ = ["hubspot_session", "hubspot_source"]

Page = list[dict[str, Any]]


def hubspot_source(config: VendorConfig, *, session: VendorSession | None = None,
                   page_size: int = settings.SEARCH_PAGE_SIZE,
                   list_page_size: int = settings.LIST_PAGE_SIZE) -> DltSource:
    """The HubSpot dlt source for `config`.

    `session` (see `hubspot_session`) lets the caller share a limiter or read the HTTP
    counters; the token from `config` is put on it. `page_size` is the search page size
    (HubSpot allows up to 200), `list_page_size` that of the archived lists (up to 100).
    """
    search_most = min(settings.SEARCH_PAGE_SIZE, settings.SEARCH_RESULT_CAP)
    for name, value, most in (("page_size", page_size, search_most),
                              ("list_page_size", list_page_size, settings.LIST_PAGE_SIZE)):
        if not 1 <= value <= most:
            raise ValueError(f"hubspot: {name} must be within 1..{most}, not {value}")
    if session is None:
        session = hubspot_session(config)
    else:
        authorize(session, config)
    client = HubSpotClient(session, config.base_url)

    @dlt.source(name=settings.SOURCE)
    def hubspot() -> list[DltResource]:
        declare_columns(dlt.current.source_schema())
        live = {spec.object_type: changed_objects(client, spec, page_size)
                for spec in settings.OBJECTS}
        archived = {spec.object_type: archived_objects(client, spec, list_page_size)
                    for spec in settings.OBJECTS}
        return [
            *live.values(), *archived.values(),
            owners(client, archived=False), owners(client, archived=True),
            associations(client, settings.COMPANY_CONTACTS, live["contacts"]),
            archived_contact_companies(archived["contacts"]),
            associations(client, settings.COMPANY_DEALS, live["deals"]),
        ]

    return hubspot()


def changed_objects(client: HubSpotClient, spec: ObjectSpec, page_size: int) -> DltResource:
    """Live records of one type modified since the cursor, through the search API."""

    # dlt's idiom: the incremental is declared as the argument's default (B008 by design).
    @dlt.resource(name=spec.object_type, table_name=spec.object_type, primary_key="id",
                  write_disposition="merge")
    def changed(modified: dlt.sources.incremental[str] = dlt.sources.incremental(  # noqa: B008
            spec.cursor_path, initial_value=settings.INITIAL_MODIFIED,
            on_cursor_value_missing="include")) -> Iterator[Page]:
        since = modified.start_value or settings.INITIAL_MODIFIED
        yield from modified_since(client, spec, since, page_size=page_size)

    return apply_contract(changed(), spec.contract)


def archived_objects(client: HubSpotClient, spec: ObjectSpec, page_size: int) -> DltResource:
    """Archived (deleted) records of one type; the list cannot filter by time, the cursor can."""
    path = settings.LIST_PATH.format(object_type=spec.object_type)
    params = {"archived": "true", "limit": page_size, "properties": ",".join(spec.properties)}

    @dlt.resource(name=f"{spec.object_type}_archived", table_name=spec.object_type,
                  primary_key="id", write_disposition="merge")
    def archived(archived_at: dlt.sources.incremental[str] = dlt.sources.incremental(  # noqa: B008
            settings.ARCHIVED_CURSOR, initial_value=settings.INITIAL_MODIFIED,
            on_cursor_value_missing="include")) -> Iterator[Page]:
        yield from client.list_pages(path, params)

    return apply_contract(archived(), spec.contract)


def owners(client: HubSpotClient, *, archived: bool) -> DltResource:
    """The owners (CSMs), live or archived; a short list read whole, loaded when changed."""
    params = {"limit": settings.OWNERS_PAGE_SIZE, "archived": str(archived).lower()}

    @dlt.resource(name="owners_archived" if archived else "owners", table_name="owners",
                  primary_key="id", write_disposition="merge")
    def owner_pages(updated: dlt.sources.incremental[str] = dlt.sources.incremental(  # noqa: B008
            settings.OWNERS_CURSOR, initial_value=settings.INITIAL_MODIFIED,
            on_cursor_value_missing="include")) -> Iterator[Page]:
        yield from client.list_pages(settings.OWNERS_PATH, params)

    return apply_contract(owner_pages(), settings.OWNERS_CONTRACT)


def associations(client: HubSpotClient, spec: AssociationSpec, parent: DltResource,
                 ) -> DltResource:
    """The companies of each page of changed contacts or deals, one batch read per page.

    A transformer has no cursor of its own: it sees exactly the records the parent's
    incremental let through, so it reads associations only for what changed.
    """

    @dlt.transformer(name=spec.table, data_from=parent, table_name=spec.table,
                     primary_key=("from_id", "to_id"), write_disposition="merge")
    def read(page: Page, meta: Any = None) -> Iterator[Any]:
        if _is_quarantine(meta) or not page:
            return
        ids = [str(record["id"]) for record in page]
        results = client.read_associations(spec.to_type, "companies", ids)
        yield from association_rows(spec, results).items()

    return read


def archived_contact_companies(parent: DltResource) -> DltResource:
    """The company row of each archived contact (from its `associatedcompanyid`), archived.

    HubSpot archives a contact's associations with it, so the batch read no longer knows
    them; the contact's own primary-company property still does.
    """

    @dlt.transformer(name="company_contacts_archived", data_from=parent,
                     table_name=settings.COMPANY_CONTACTS.table,
                     primary_key=("from_id", "to_id"), write_disposition="merge")
    def read(page: Page, meta: Any = None) -> Iterator[Page]:
        if _is_quarantine(meta):
            return
        rows = [{"from_id": str(company), "to_id": str(record["id"]), "is_primary": True,
                 "archived": True}
                for record in page
                if (company := (record.get("properties") or {}).get("associatedcompanyid"))]
        if rows:
            yield rows

    return read


def association_rows(spec: AssociationSpec, results: Sequence[Mapping[str, Any]],
                     ) -> CheckedPage:
    """Rows "company `from_id` has `to_id`" from a v4 batch read of `to_type` -> companies.

    Both levels of the answer (each input object, each of its companies) pass a contract, so
    a renamed field fails the run and a broken entry is quarantined, never turned into a row
    with a null key.
    """
    checked = spec.result_contract.check_page(list(results))
    targets = [{**target, "fromObjectId": str(result["from"]["id"])}
               if isinstance(target, Mapping) else target
               for result in checked.valid for target in result["to"]]
    checked_targets = spec.target_contract.check_page(targets)
    rows = [{"from_id": str(target["toObjectId"]), "to_id": target["fromObjectId"],
             "is_primary": any(isinstance(kind, Mapping)
                               and kind.get("label") == settings.PRIMARY_LABEL
                               for kind in target["associationTypes"]),
             "archived": False}
            for target in checked_targets.valid]
    return CheckedPage(valid=rows,
                       quarantined=checked.quarantined + checked_targets.quarantined)


def declare_columns(schema: Schema) -> None:
    """Put the column types, `dedup_sort` and merge keys of every table on the schema.

    Types matter for fields that may be null on every record of a load (dlt creates no
    column for them otherwise, and a staging model selecting one breaks); `dedup_sort` on
    the modification time keeps the newer of two versions of a record in one load (live,
    then archived mid-run); the merge key `to_id` makes each changed object's associations
    replace its previous ones.
    """
    tables: dict[str, dict[str, TColumnSchema]] = {
        spec.object_type: _with_dedup(spec.columns, spec.cursor_column)
        for spec in settings.OBJECTS}
    tables["owners"] = _with_dedup(settings.OWNERS_COLUMNS, settings.OWNERS_CURSOR_COLUMN)
    for association in (settings.COMPANY_CONTACTS, settings.COMPANY_DEALS):
        tables[association.table] = {**settings.ASSOCIATION_COLUMNS,
                                     "to_id": {**settings.ASSOCIATION_COLUMNS["to_id"],
                                               "merge_key": True}}
    for table, columns in tables.items():
        # The table-level hints must be repeated here: dlt keeps a declared table's own.
        schema.update_table(new_table(table, write_disposition="merge", columns=[
            {**hint, "name": schema.naming.normalize_path(name)}  # type: ignore[typeddict-item]
            for name, hint in columns.items()]))


def _with_dedup(columns: Mapping[str, TColumnSchema], cursor_column: str,
                ) -> dict[str, TColumnSchema]:
    """`columns` plus newest-first `dedup_sort` on the modification time column."""
    merged: dict[str, TColumnSchema] = {name: dict(hint)  # type: ignore[misc]
                                        for name, hint in columns.items()}
    merged.setdefault(cursor_column, {"data_type": "timestamp", "nullable": True})
    merged[cursor_column]["dedup_sort"] = "desc"
    return merged


def _is_quarantine(meta: Any) -> bool:
    """Whether a page reaching a transformer is the parent's quarantine rows, not records."""
    return isinstance(meta, HintsMeta) and meta.hints.get("table_name") == QUARANTINE_TABLE
