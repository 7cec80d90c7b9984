{#- Grain: contact_id. The people at each account from the CRM chosen by var `crm`, with their
    CS role, when they were last engaged and when they left (archived or deleted in the CRM).
    A HubSpot contact whose company property is empty takes its primary company association.
    Contacts of no account are kept (account_id null) rather than dropped. -#}
{%- if var('crm') == 'salesforce' %}
select
    contact_id,
    account_id,
    email,
    role,
    created_at,
    last_engaged_at,
    removed_at
from {{ ref('stg_salesforce__contacts') }}
{%- else %}
with primary_companies as (
    select contact_id, min(company_id) as company_id
    from {{ ref('stg_hubspot__company_contacts') }}
    where is_primary
    group by contact_id
)

select
    contacts.contact_id,
    coalesce(contacts.company_id, primary_companies.company_id) as account_id,
    contacts.email,
    contacts.role,
    contacts.created_at,
    contacts.last_engaged_at,
    contacts.removed_at
from {{ ref('stg_hubspot__contacts') }} as contacts
left join primary_companies
    on primary_companies.contact_id = contacts.contact_id
{%- endif %}
