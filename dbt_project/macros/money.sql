{#- Stripe's integer cents as currency units, as the project's decimal type
    (`dbt.type_numeric()`, numeric(28,6) on both engines: exact, with room for normalised
    amounts such as a weekly price × 52/12). -#}
{% macro cents_to_units(cents) -%}
    cast({{ cents }} / 100.0 as {{ dbt.type_numeric() }})
{%- endmacro %}
