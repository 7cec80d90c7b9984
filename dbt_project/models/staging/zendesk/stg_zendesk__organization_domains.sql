{#- Grain: organization_id, domain. The domains of each Zendesk organization (dlt child table
    `organizations__domain_names` joined back to its parent row), lower-cased without `www.`:
    the identity fallback key. -#}
with organizations as (
    select _dlt_id, id from {{ source('zendesk', 'organizations') }}
),

domains as (
    select
        _dlt_parent_id as organization_row_id,
        nullif(regexp_replace(lower(trim(value)), '^www\.', ''), '') as domain
    from {{ source('zendesk', 'organizations__domain_names') }}
)

select distinct
    cast(organizations.id as {{ dbt.type_string() }}) as organization_id,
    domains.domain
from domains
inner join organizations
    on organizations._dlt_id = domains.organization_row_id
where domains.domain is not null
