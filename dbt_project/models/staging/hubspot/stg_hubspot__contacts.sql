{#- Grain: contact_id. A HubSpot contact as last loaded, archived ones included: an archived
    contact has left (removed_at is its archive time, which HubSpot stamps as its last update).
    The role property's `end_user` is the project's `user`. -#}
{{ config(enabled=var('crm') == 'hubspot') }}

select
    cast(id as {{ dbt.type_string() }}) as contact_id,
    nullif(trim(properties__associatedcompanyid), '') as company_id,
    nullif(lower(trim(properties__email)), '') as email,
    properties__jobtitle as job_title,
    case lower(trim(properties__csp_contact_role))
        when 'end_user' then 'user'
        else lower(trim(properties__csp_contact_role))
    end as role,
    {{ to_utc_timestamp('created_at') }} as created_at,
    {{ to_utc_timestamp('properties__notes_last_contacted') }} as last_engaged_at,
    {{ to_utc_timestamp('properties__lastmodifieddate') }} as updated_at,
    coalesce(archived, false) as is_archived,
    case when archived then {{ to_utc_timestamp('updated_at') }} end as removed_at
from {{ source('hubspot', 'contacts') }}
