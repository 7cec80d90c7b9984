{#- Grain: company_id, deal_id. Which company a deal belongs to (HubSpot v4 associations),
    removed associations dropped. -#}
{{ config(enabled=var('crm') == 'hubspot') }}

select
    from_id as company_id,
    to_id as deal_id,
    coalesce(is_primary, false) as is_primary
from {{ source('hubspot', 'company_deals') }}
where not archived
