{#- Grain: company_id, contact_id. Which companies a contact belongs to (HubSpot v4
    associations), removed associations dropped. -#}
{{ config(enabled=var('crm') == 'hubspot') }}

select
    from_id as company_id,
    to_id as contact_id,
    coalesce(is_primary, false) as is_primary
from {{ source('hubspot', 'company_contacts') }}
where not archived
