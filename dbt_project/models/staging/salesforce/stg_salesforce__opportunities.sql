{#- Grain: opportunity_id. A Salesforce Opportunity (new business, renewal, expansion) as last
    loaded, deleted ones flagged. -#}
{{ config(enabled=var('crm') == 'salesforce') }}

select
    cast(id as {{ dbt.type_string() }}) as opportunity_id,
    nullif(trim(account_id), '') as account_id,
    name as opportunity_name,
    cast(amount as {{ dbt.type_numeric() }}) as amount,
    stage_name,
    coalesce(is_won, false) as is_won,
    coalesce(is_closed, false) as is_closed,
    replace(lower(trim(type)), ' ', '_') as opportunity_type,
    nullif(trim(owner_id), '') as owner_id,
    cast(nullif(trim(close_date), '') as date) as close_date,
    {{ to_utc_timestamp('created_date') }} as created_at,
    {{ to_utc_timestamp('system_modstamp') }} as updated_at,
    coalesce(is_deleted, false) as is_deleted
from {{ source('salesforce', 'opportunities') }}
