{#- One product usage event, typed. The feed's event types: feature_used (a feature was used),
    gated_feature_attempt (a feature the plan lacks was tried and blocked), plan_limit_hit
    (use blocked by the plan's daily limit). event_date is the UTC day the event happened. -#}
with source as (

    select * from {{ source('product', 'usage_events') }}

),

renamed as (

    select
        cast(event_id as {{ dbt.type_string() }}) as event_id,
        cast(workspace_id as {{ dbt.type_string() }}) as workspace_id,
        cast(user_id as {{ dbt.type_string() }}) as user_id,
        lower(cast(user_email as {{ dbt.type_string() }})) as user_email,
        cast(feature as {{ dbt.type_string() }}) as feature,
        cast(event_type as {{ dbt.type_string() }}) as event_type,
        lower(cast(plan as {{ dbt.type_string() }})) as plan,
        {{ to_utc_timestamp('occurred_at') }} as occurred_at,
        cast({{ to_utc_timestamp('occurred_at') }} as date) as event_date,
        cast(partition_date as date) as partition_date,
        _dlt_load_id as load_id
    from source

)

select * from renamed
