{#- How many months one billing period of a recurring price lasts, so that price ÷ this is the
    monthly-normalised amount (DESIGN.md §5): a year is 12 months, a week 12/52 of a month (the
    weekly price × 52/12), a day 12/365; `interval_count` periods make one billing period. -#}
{% macro billing_period_months(billing_interval, interval_count) -%}
    (case {{ billing_interval }}
        when 'year' then 12.0
        when 'month' then 1.0
        when 'week' then 12.0 / 52
        when 'day' then 12.0 / 365
    end * {{ interval_count }})
{%- endmacro %}
