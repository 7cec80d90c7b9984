{#- Every Stripe customer, Zendesk organization and product workspace of the raw layer is
    either tied to an account (int_identity__account_keys) or listed in int_identity__unmatched
    — exactly one of the two. Fails with each record found in neither or in both. -#}
with raw_records as (
    select 'stripe' as source_system, cast(id as {{ dbt.type_string() }}) as source_record_id
    from {{ source('stripe', 'customers') }}
    union
    select 'zendesk', cast(id as {{ dbt.type_string() }})
    from {{ source('zendesk', 'organizations') }}
    union
    select 'product', cast(workspace_id as {{ dbt.type_string() }})
    from {{ source('product', 'usage_events') }}
    union
    select 'product', cast(workspace_id as {{ dbt.type_string() }})
    from {{ source('product', 'survey_responses') }}
),

placed as (
    select source_system, source_record_id, 1 as placements
    from {{ ref('int_identity__account_keys') }}
    union all
    select source_system, source_record_id, 1
    from {{ ref('int_identity__unmatched') }}
)

select
    raw_records.source_system,
    raw_records.source_record_id,
    coalesce(sum(placed.placements), 0) as placements
from raw_records
left join placed
    on placed.source_system = raw_records.source_system
    and placed.source_record_id = raw_records.source_record_id
where raw_records.source_record_id is not null
group by raw_records.source_system, raw_records.source_record_id
having coalesce(sum(placed.placements), 0) <> 1
