{#- Grain: account_id. A Salesforce Account as last loaded, deleted ones (recycle bin)
    included: the CRM account, its identity keys (the Stripe customer id and workspace id the
    project's custom fields hold), its owner (CSM) and contract facts. Website is free text
    (`www.acme.com`, `https://acme.com/`): its bare host is the domain. -#}
{{ config(enabled=var('crm') == 'salesforce') }}

select
    cast(id as {{ dbt.type_string() }}) as account_id,
    name as account_name,
    nullif(split_part(regexp_replace(lower(trim(website)), '^(https?://)?(www\.)?', ''), '/', 1), '')
        as domain,
    industry,
    nullif(trim(owner_id), '') as owner_id,
    replace(lower(trim(type)), ' ', '_') as lifecycle_stage,
    nullif(trim(stripe_customer_id__c), '') as stripe_customer_id,
    nullif(trim(workspace_id__c), '') as workspace_id,
    segment__c as crm_segment,
    cast(nullif(trim(renewal_date__c), '') as date) as renewal_date,
    nullif(trim(plan__c), '') as crm_plan,
    cast(seats__c as integer) as crm_seats,
    {{ to_utc_timestamp('created_date') }} as created_at,
    {{ to_utc_timestamp('system_modstamp') }} as updated_at,
    coalesce(is_deleted, false) as is_deleted
from {{ source('salesforce', 'accounts') }}
