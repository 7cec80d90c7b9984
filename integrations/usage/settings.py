"""The product's export API as this source uses it: endpoints, page sizes, windows, contracts.

The product is the simulated company's own application (DESIGN.md §4, "product usage" and
"surveys"): daily usage partitions as NDJSON files, and NPS/CES survey answers. Constants only,
so every wire-level choice of the source is reviewed in one place.
"""

from __future__ import annotations

from integrations.contracts import Contract

VENDOR = "product"

PARTITIONS_PATH = "/v1/usage/partitions"
SURVEY_RESPONSES_PATH = "/v1/survey-responses"

# The listing computes each file's sha256 by rendering it, so a page of 100 days can take
# minutes on a large company; pages of 10 (the API's default) stay well inside the read timeout.
PARTITIONS_PAGE_SIZE = 10
PARTITIONS_PAGE_SIZE_MAX = 100
SURVEY_PAGE_SIZE = 1000           # the API's maximum
SURVEY_PAGE_SIZE_MAX = 1000
# Records per page handed to dlt from one partition file: big enough that per-page costs
# vanish, small enough that a page-wide drift check means something and memory stays flat.
EVENTS_PAGE_SIZE = 20_000
EVENTS_PAGE_SIZE_MAX = 1_000_000

# Where the very first run starts: the whole history. Later runs start from the newest
# partition loaded, minus the lookback below.
INITIAL_DATE = "1970-01-01"
# Recent partitions are listed again on every run, so one the product re-delivers with late
# events (a new sha256) is reloaded. Older partitions are final; `full_refresh` re-reads all.
LOOKBACK_DAYS = 3
# A downloaded file must match the sha256 the listing gave; a truncated or corrupted body is
# fetched again this many times in all before the run fails naming the partition.
DOWNLOAD_ATTEMPTS = 4

PARTITIONS_CONTRACT = Contract(VENDOR, "usage_partitions", required={
    "date": "string",
    "path": "string",
    "events": "integer",
    "sha256": "string",
})
# workspace_id is the identity key shared with the CRM, Stripe (customer metadata) and
# Zendesk (organization external_id); user_email, when present, matches CRM contacts.
USAGE_EVENTS_CONTRACT = Contract(VENDOR, "usage_events", required={
    "event_id": "string",
    "workspace_id": "string",
    "user_id": "string",
    "feature": "string",
    "event_type": "string",
    "occurred_at": "string",
})
SURVEY_RESPONSES_CONTRACT = Contract(VENDOR, "survey_responses", required={
    "id": "string",
    "survey": "string",
    "score": "integer",
    "scale_min": "integer",
    "scale_max": "integer",
    "workspace_id": "string",
    "email": ("string", "null"),
    "submitted_at": "string",
    "updated_at": "string",
})
