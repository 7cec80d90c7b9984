{#- The window of days an incremental run of a daily model recomputes.

    Normally its newest `lookback_days` days and everything after (late data lands there).
    `csp backfill --from A --to B` sets vars backfill_from / backfill_to: the window then also
    reaches back to A, and days after B are left as they are — so a past range can be rebuilt
    (after a model fix or late history) without touching the rest and without alerting. -#}
{% macro incremental_first_day(lookback_days) -%}
    {%- set newest = dbt.dateadd('day', -lookback_days, 'max(date)') -%}
    {%- if var('backfill_from') is not none -%}
        least({{ newest }}, cast('{{ var("backfill_from") }}' as date))
    {%- else -%}
        {{ newest }}
    {%- endif -%}
{%- endmacro %}

{% macro incremental_last_day_filter(column) -%}
    {%- if var('backfill_to') is not none -%}
        and {{ column }} <= cast('{{ var("backfill_to") }}' as date)
    {%- endif -%}
{%- endmacro %}
