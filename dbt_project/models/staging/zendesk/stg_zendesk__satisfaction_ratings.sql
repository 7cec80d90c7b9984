{#- Grain: rating_id. A satisfaction rating the customer gave: `good` or `bad`. Ratings only
    offered (`offered`, no answer yet) or never offered are left out: CSAT counts answers. -#}
select
    id as rating_id,
    ticket_id,
    cast(organization_id as {{ dbt.type_string() }}) as organization_id,
    lower(score) as score,
    {{ to_utc_timestamp('created_at') }} as created_at,
    {{ to_utc_timestamp('updated_at') }} as updated_at
from {{ source('zendesk', 'satisfaction_ratings') }}
where lower(score) in ('good', 'bad')
