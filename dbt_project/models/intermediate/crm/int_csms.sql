{#- Grain: csm_id. The CSMs: the CRM users who own accounts (HubSpot owners or Salesforce
    users, by var `crm`), with their email and name. Their Slack user id is not in any source
    the warehouse loads; the activation flows look it up by email. -#}
{%- if var('crm') == 'salesforce' %}
select
    user_id as csm_id,
    email as csm_email,
    full_name as csm_name,
    is_active
from {{ ref('stg_salesforce__users') }}
{%- else %}
select
    owner_id as csm_id,
    email as csm_email,
    full_name as csm_name,
    not is_archived as is_active
from {{ ref('stg_hubspot__owners') }}
{%- endif %}
