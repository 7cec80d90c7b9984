{#- Grain: organization_id. A Zendesk organization: the support side of an account. Its
    external_id holds the product workspace id when the support team set it (the explicit
    identity key); its domains are in stg_zendesk__organization_domains. -#}
select
    cast(id as {{ dbt.type_string() }}) as organization_id,
    name as organization_name,
    nullif(trim(external_id), '') as external_id,
    {{ to_utc_timestamp('created_at') }} as created_at,
    {{ to_utc_timestamp('updated_at') }} as updated_at,
    {{ to_utc_timestamp('deleted_at') }} as deleted_at,
    deleted_at is not null as is_deleted
from {{ source('zendesk', 'organizations') }}
