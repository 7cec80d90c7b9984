{#- Grain: owner_id. A HubSpot owner: the users who own companies, i.e. the CSMs. -#}
{{ config(enabled=var('crm') == 'hubspot') }}

select
    cast(id as {{ dbt.type_string() }}) as owner_id,
    nullif(lower(trim(email)), '') as email,
    first_name,
    last_name,
    trim(coalesce(first_name, '') || ' ' || coalesce(last_name, '')) as full_name,
    coalesce(archived, false) as is_archived
from {{ source('hubspot', 'owners') }}
