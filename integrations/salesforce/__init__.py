"""The Salesforce source: Account, Contact, Opportunity and User, incremental on SystemModstamp.

`salesforce_source(config)` is a dlt source named `salesforce` (it lands in
`raw_salesforce`), one resource per object, each merged on `Id`:

| table | sObject | cursor |
|---|---|---|
| accounts | Account | `SystemModstamp` |
| contacts | Contact | `SystemModstamp` |
| opportunities | Opportunity | `SystemModstamp` |
| users | User | `SystemModstamp` |

Each run asks `queryAll` for the records with `SystemModstamp >= cursor`, oldest first, and
follows `nextRecordsUrl` to the end. Deleted records come back with `IsDeleted = true` and are
stored that way, never dropped (staging filters them). Tables are plural, like HubSpot's, and
so that none is named `user`, a reserved word in PostgreSQL.

Column types and `dedup_sort` are declared on the source's schema rather than as resource
hints: dlt copies a resource's hints into the `_quarantine` table variant (giving it columns
it never fills), and hints given as functions instead make dlt compute the table schema
record by record (4x slower).
"""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import dlt
from dlt.common.schema import Schema
from dlt.common.schema.typing import TColumnSchema
from dlt.common.schema.utils import new_table
from dlt.extract import DltResource, DltSource

from csp.settings import VendorConfig
from integrations.contracts import apply_contract
from integrations.http import VendorSession
from integrations.salesforce import settings
from integrations.salesforce.client import (
    SalesforceClient,
    salesforce_session,
    soql_changed_since,
)
from integrations.salesforce.settings import SObjectSpec

__all__ = ["SalesforceClient", "salesforce_session", "salesforce_source"]

Page = list[dict[str, Any]]


def salesforce_source(config: VendorConfig, *, session: VendorSession | None = None,
                      client: SalesforceClient | None = None,
                      batch_size: int = settings.BATCH_SIZE) -> DltSource:
    """The Salesforce dlt source for `config`.

    `session` (see `salesforce_session`) lets the caller share a limiter or read the HTTP
    counters; `client` lets it keep one token across runs (its own session is then used).
    `batch_size` is the query batch size (200..2,000).
    """
    if client is None:
        client = SalesforceClient(session or salesforce_session(config), config)

    @dlt.source(name=settings.SOURCE)
    def salesforce() -> list[DltResource]:
        declare_columns(dlt.current.source_schema())
        return [changed_records(client, spec, batch_size) for spec in settings.SOBJECTS]

    return salesforce()


def changed_records(client: SalesforceClient, spec: SObjectSpec, batch_size: int,
                    ) -> DltResource:
    """Records of one sObject changed (or deleted) since the cursor, batch by batch."""
    # dlt's idiom: the incremental is declared as the argument's default (B008 by design).
    @dlt.resource(name=spec.table, table_name=spec.table, primary_key="Id",
                  write_disposition="merge")
    def changed(modstamp: dlt.sources.incremental[str] = dlt.sources.incremental(  # noqa: B008
            settings.CURSOR_FIELD, initial_value=settings.INITIAL_MODSTAMP,
            on_cursor_value_missing="include")) -> Iterator[Page]:
        soql = soql_changed_since(spec, modstamp.start_value or settings.INITIAL_MODSTAMP)
        yield from client.query_all(soql, batch_size=batch_size)

    return apply_contract(changed(), spec.contract)


def declare_columns(schema: Schema) -> None:
    """Put each table's column types and `dedup_sort` on the schema.

    Types matter for fields that may be null on every record of a load (dlt creates no
    column for them otherwise, and a staging model selecting one breaks); `dedup_sort` on
    SystemModstamp keeps the newer of two versions of one record in a load (it changed while
    the run paged).
    """
    for spec in settings.SOBJECTS:
        columns: dict[str, TColumnSchema] = {name: dict(hint)  # type: ignore[misc]
                                             for name, hint in spec.columns.items()}
        columns[settings.CURSOR_FIELD] = {"data_type": "timestamp", "nullable": True,
                                          "dedup_sort": "desc"}
        # The table-level hints must be repeated here: dlt keeps a declared table's own.
        schema.update_table(new_table(spec.table, write_disposition="merge", columns=[
            {**hint, "name": schema.naming.normalize_path(name)}  # type: ignore[typeddict-item]
            for name, hint in columns.items()]))
