{#- Grain: date_day. One row per day, the spine MetricFlow joins time-based metrics to (dbt
    semantic layer). A fixed range wide enough for any billing history the project reports. -#}
select cast(date_day as date) as date_day
from (
    {{ dbt.date_spine('day', "cast('2015-01-01' as date)", "cast('2041-01-01' as date)") }}
) as days
