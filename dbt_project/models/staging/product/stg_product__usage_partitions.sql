{#- One daily partition file of the usage feed as the listing described it when loaded. -#}
with source as (

    select * from {{ source('product', 'usage_partitions') }}

),

renamed as (

    select
        cast(date as date) as partition_date,
        cast(path as {{ dbt.type_string() }}) as path,
        cast(events as integer) as events,
        cast(sha256 as {{ dbt.type_string() }}) as sha256,
        _dlt_load_id as load_id
    from source

)

select * from renamed
