{#- Grain: contact_id. A Salesforce Contact as last loaded, deleted ones included: a deleted
    contact has left (removed_at is its last system change, the deletion). CS_Role__c labels
    (`Decision Maker`, `End User`) become the project's roles (`decision_maker`, `user`).
    LastActivityDate is a day; last_engaged_at is its midnight UTC. -#}
{{ config(enabled=var('crm') == 'salesforce') }}

with contacts as (
    select
        *,
        replace(lower(trim(cs_role__c)), ' ', '_') as role_key
    from {{ source('salesforce', 'contacts') }}
)

select
    cast(id as {{ dbt.type_string() }}) as contact_id,
    nullif(trim(account_id), '') as account_id,
    nullif(lower(trim(email)), '') as email,
    case role_key when 'end_user' then 'user' else role_key end as role,
    {{ to_utc_timestamp('created_date') }} as created_at,
    cast(cast(nullif(trim(last_activity_date), '') as date) as {{ dbt.type_timestamp() }})
        as last_engaged_at,
    {{ to_utc_timestamp('system_modstamp') }} as updated_at,
    coalesce(is_deleted, false) as is_deleted,
    case when is_deleted then {{ to_utc_timestamp('system_modstamp') }} end as removed_at
from contacts
