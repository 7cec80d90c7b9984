{#- Every account of the raw CRM (HubSpot companies or Salesforce Accounts, by var `crm`) is an
    account in int_accounts and in dim_accounts, under its own id: the CRM owns account ids,
    so none may be lost between the raw layer and the marts. Fails with the missing ids. -#}
{%- if var('crm') == 'salesforce' %}
    {%- set raw_accounts = source('salesforce', 'accounts') %}
{%- else %}
    {%- set raw_accounts = source('hubspot', 'companies') %}
{%- endif %}
select
    cast(raw_accounts.id as {{ dbt.type_string() }}) as crm_account_id,
    accounts.account_id is null as missing_from_int_accounts,
    dim.account_id is null as missing_from_dim_accounts
from {{ raw_accounts }} as raw_accounts
left join {{ ref('int_accounts') }} as accounts
    on accounts.account_id = cast(raw_accounts.id as {{ dbt.type_string() }})
left join {{ ref('dim_accounts') }} as dim
    on dim.account_id = cast(raw_accounts.id as {{ dbt.type_string() }})
where accounts.account_id is null or dim.account_id is null
