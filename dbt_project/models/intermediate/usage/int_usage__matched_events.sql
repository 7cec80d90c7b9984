{{ config(materialized='ephemeral') }}
{#- Grain: event_id. Usage events of the workspaces a CRM account claims, up to the as-of day,
    with their account_id. Events of unclaimed workspaces stay out of every account metric
    (int_identity__unmatched lists those workspaces). Ephemeral: the incremental models reading
    it push their day filter down into the event scan. -#}
with events as (

    select * from {{ ref('stg_product__usage_events') }}

),

workspace_accounts as (

    select source_record_id as workspace_id, account_id
    from {{ ref('int_identity__account_keys') }}
    where source_system = 'product'

),

as_of as (

    select max(date) as last_date from {{ ref('int_dates') }}

),

final as (

    select
        workspace_accounts.account_id,
        events.event_id,
        events.user_id,
        events.feature,
        events.event_type,
        events.plan,
        events.event_date
    from events
    inner join workspace_accounts on events.workspace_id = workspace_accounts.workspace_id
    where events.event_date <= (select last_date from as_of)

)

select * from final
