{#- One survey answer: NPS (0..10, "how likely are you to recommend us") or CES (1..7, "how easy
    was it to get help"; higher means less effort). The scale travels with each answer. -#}
with source as (

    select * from {{ source('product', 'survey_responses') }}

),

renamed as (

    select
        cast(id as {{ dbt.type_string() }}) as response_id,
        cast(workspace_id as {{ dbt.type_string() }}) as workspace_id,
        lower(cast(email as {{ dbt.type_string() }})) as email,
        lower(cast(survey as {{ dbt.type_string() }})) as survey_type,
        cast(score as integer) as score,
        cast(scale_min as integer) as scale_min,
        cast(scale_max as integer) as scale_max,
        {{ to_utc_timestamp('submitted_at') }} as submitted_at,
        cast({{ to_utc_timestamp('submitted_at') }} as date) as submitted_on,
        {{ to_utc_timestamp('updated_at') }} as updated_at
    from source

)

select * from renamed
