{#- Grain: crm_account_id. The accounts of the CRM chosen by var `crm` (HubSpot companies or
    Salesforce Accounts) in one shape, so identity and every mart read one model whatever the
    CRM. The CRM owns account ids: every CRM account is an account, deleted ones flagged. -#}
{%- if var('crm') not in ('hubspot', 'salesforce') %}
    {{ exceptions.raise_compiler_error("var crm must be 'hubspot' or 'salesforce', got '" ~ var('crm') ~ "'") }}
{%- endif %}
{%- if var('crm') == 'salesforce' %}
select
    'salesforce' as crm_system,
    account_id as crm_account_id,
    account_name,
    domain,
    industry,
    owner_id,
    lifecycle_stage,
    stripe_customer_id,
    workspace_id,
    crm_plan,
    crm_seats,
    renewal_date,
    created_at,
    is_deleted
from {{ ref('stg_salesforce__accounts') }}
{%- else %}
select
    'hubspot' as crm_system,
    company_id as crm_account_id,
    company_name as account_name,
    domain,
    industry,
    owner_id,
    lifecycle_stage,
    stripe_customer_id,
    workspace_id,
    crm_plan,
    crm_seats,
    renewal_date,
    created_at,
    is_deleted
from {{ ref('stg_hubspot__companies') }}
{%- endif %}
