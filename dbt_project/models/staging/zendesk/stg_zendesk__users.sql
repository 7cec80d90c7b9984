{#- Grain: user_id. A Zendesk user: end users (customers' people) and agents. -#}
select
    id as user_id,
    nullif(lower(trim(email)), '') as email,
    name as user_name,
    lower(role) as role,
    cast(organization_id as {{ dbt.type_string() }}) as organization_id,
    coalesce(active, true) as is_active,
    {{ to_utc_timestamp('created_at') }} as created_at,
    {{ to_utc_timestamp('updated_at') }} as updated_at
from {{ source('zendesk', 'users') }}
