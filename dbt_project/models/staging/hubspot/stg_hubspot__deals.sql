{#- Grain: deal_id. A HubSpot deal (new business, renewal, expansion) as last loaded; the
    company it belongs to is in stg_hubspot__company_deals. -#}
{{ config(enabled=var('crm') == 'hubspot') }}

select
    cast(id as {{ dbt.type_string() }}) as deal_id,
    properties__dealname as deal_name,
    cast(nullif(trim(properties__amount), '') as {{ dbt.type_numeric() }}) as amount,
    properties__dealstage as deal_stage,
    properties__dealstage = 'closedwon' as is_won,
    properties__dealstage in ('closedwon', 'closedlost') as is_closed,
    properties__dealtype as deal_type,
    properties__csp_deal_kind as deal_kind,
    nullif(trim(properties__hubspot_owner_id), '') as owner_id,
    {{ to_utc_timestamp('properties__closedate') }} as closes_at,
    {{ to_utc_timestamp('created_at') }} as created_at,
    {{ to_utc_timestamp('properties__hs_lastmodifieddate') }} as updated_at,
    coalesce(archived, false) as is_deleted
from {{ source('hubspot', 'deals') }}
