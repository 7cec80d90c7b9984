{#- Grain: user_id. A Salesforce User: the record owners, i.e. the CSMs. Users are deactivated,
    never deleted. -#}
{{ config(enabled=var('crm') == 'salesforce') }}

select
    cast(id as {{ dbt.type_string() }}) as user_id,
    nullif(lower(trim(email)), '') as email,
    name as full_name,
    coalesce(is_active, true) as is_active
from {{ source('salesforce', 'users') }}
