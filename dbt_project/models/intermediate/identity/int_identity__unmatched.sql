{#- Grain: source_system, source_record_id. The Stripe customers, Zendesk organizations and
    product workspaces that no identity rule tied to exactly one CRM account, with the reason
    in a sentence. They are reported here instead of being dropped: billing keeps an unmatched
    customer as account `stripe:<customer id>`, while support and usage metrics leave them out
    until the CRM or the source record carries a key. -#}
select
    source_system,
    source_record_id,
    record_name,
    domain,
    reason
from {{ ref('int_identity__resolution') }}
where account_id is null
