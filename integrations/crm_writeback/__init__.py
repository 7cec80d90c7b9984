"""CRM write-back: CS tasks and health fields pushed to the CRM (HubSpot), idempotently."""

from integrations.crm_writeback.hubspot import (
    BATCH_LIMIT,
    BatchOutcome,
    HubSpotWriteback,
    TaskWrite,
)

__all__ = ["BATCH_LIMIT", "BatchOutcome", "HubSpotWriteback", "TaskWrite"]
