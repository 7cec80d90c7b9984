{#- The primary key of a multi-column grain (account_id + month, ...): no combination of
    `combination_of_columns` occurs twice and none of its columns is null. Written here rather
    than taken from dbt_utils because the project installs no packages (it must build offline,
    CONVENTIONS: no network at build time); the failing rows are the duplicated keys and the
    rows with a null key part, with how often each occurs. -#}
{% test unique_combination_of_columns(model, combination_of_columns) %}
{%- set key_columns = combination_of_columns | join(', ') %}

with keyed as (
    select {{ key_columns }}
    from {{ model }}
),

duplicated as (
    select {{ key_columns }}, count(*) as occurrences
    from keyed
    group by {{ key_columns }}
    having count(*) > 1
),

null_keys as (
    select {{ key_columns }}, 1 as occurrences
    from keyed
    where {% for column in combination_of_columns -%}
        {{ column }} is null{% if not loop.last %} or {% endif %}
    {%- endfor %}
)

select * from duplicated
union all
select * from null_keys
{% endtest %}
