{#- Grain: company_id. A HubSpot company as last loaded: the CRM account, its identity keys
    (the Stripe customer id and workspace id the project's custom properties hold), its CSM
    and its contract facts as the CRM records them. The domain is lower-cased without a
    leading `www.` so it compares with email and organization domains. -#}
{{ config(enabled=var('crm') == 'hubspot') }}

select
    cast(id as {{ dbt.type_string() }}) as company_id,
    properties__name as company_name,
    nullif(regexp_replace(lower(trim(properties__domain)), '^www\.', ''), '') as domain,
    properties__industry as industry,
    nullif(trim(properties__hubspot_owner_id), '') as owner_id,
    properties__lifecyclestage as lifecycle_stage,
    nullif(trim(properties__csp_stripe_customer_id), '') as stripe_customer_id,
    nullif(trim(properties__csp_workspace_id), '') as workspace_id,
    properties__csp_segment as crm_segment,
    cast(nullif(trim(properties__csp_renewal_date), '') as date) as renewal_date,
    nullif(trim(properties__csp_plan), '') as crm_plan,
    cast(nullif(trim(properties__csp_seats), '') as integer) as crm_seats,
    {{ to_utc_timestamp('created_at') }} as created_at,
    {{ to_utc_timestamp('properties__hs_lastmodifieddate') }} as updated_at,
    coalesce(archived, false) as is_deleted
from {{ source('hubspot', 'companies') }}
