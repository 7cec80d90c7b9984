{#- Reading JSON payloads (Stripe events' `data`) on both engines. dlt stores JSON as DuckDB's
    JSON type and PostgreSQL's jsonb, whose path syntaxes differ; `path` is a list of keys. -#}

{#- The value at `path` as text (null when absent or JSON null). -#}
{% macro json_text(column, path) -%}
    {{ return(adapter.dispatch('json_text')(column, path)) }}
{%- endmacro %}

{% macro default__json_text(column, path) -%}
    ({{ column }} #>> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_text(column, path) -%}
    json_extract_string({{ column }}, '$.{{ path | join('.') }}')
{%- endmacro %}

{#- The value at `path` as JSON. -#}
{% macro json_value(column, path) -%}
    {{ return(adapter.dispatch('json_value')(column, path)) }}
{%- endmacro %}

{% macro default__json_value(column, path) -%}
    ({{ column }} #> '{ {{- path | join(',') -}} }')
{%- endmacro %}

{% macro duckdb__json_value(column, path) -%}
    json_extract({{ column }}, '$.{{ path | join('.') }}')
{%- endmacro %}

{#- Whether the object at `path` has the key `key` (even with a JSON null value). -#}
{% macro json_has_key(column, path, key) -%}
    {{ return(adapter.dispatch('json_has_key')(column, path, key)) }}
{%- endmacro %}

{% macro default__json_has_key(column, path, key) -%}
    coalesce(jsonb_exists({{ column }} #> '{ {{- path | join(',') -}} }', '{{ key }}'), false)
{%- endmacro %}

{% macro duckdb__json_has_key(column, path, key) -%}
    coalesce(json_exists({{ column }}, '$.{{ path | join('.') }}.{{ key }}'), false)
{%- endmacro %}

{#- A FROM-clause item with one row per element of the array at `path` of `column` (a lateral
    join on the row that owns the column), the element as JSON in `<alias>.value`. -#}
{% macro json_array_elements(column, path, alias) -%}
    {{ return(adapter.dispatch('json_array_elements')(column, path, alias)) }}
{%- endmacro %}

{% macro default__json_array_elements(column, path, alias) -%}
    lateral jsonb_array_elements({{ column }} #> '{ {{- path | join(',') -}} }') as {{ alias }}(value)
{%- endmacro %}

{% macro duckdb__json_array_elements(column, path, alias) -%}
    unnest(json_extract({{ column }}, '$.{{ path | join('.') }}[*]')) as {{ alias }}(value)
{%- endmacro %}
