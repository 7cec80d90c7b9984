{#- Custom schemas are used as named (`marts`, not `public_marts`): the mart schema is a public
    API that BI tools and the activation flows address by name (DESIGN.md §6). -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ custom_schema_name | trim if custom_schema_name is not none else target.schema }}
{%- endmacro %}
