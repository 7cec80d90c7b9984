{#- Grain: one row. The as-of day of the lifecycle models: the last day of int_dates (var
    as_of_date, or the newest day of data), so touchpoint statuses and save outcomes are read
    on the same day as health. -#}
select max(date) as as_of_date
from {{ ref('int_dates') }}
