{#- The read-only BI role (DESIGN.md §6 access): on PostgreSQL, BI tools log in as a member of
    var bi_read_role, which may read the marts and nothing else — raw, staging and
    intermediate hold personal data. The marts grant it `select` through the `grants` config
    (dbt_project.yml, with the same default); these hooks create the role when missing (on-run-start) and let it into
    the `marts` schema (on-run-end). DuckDB has no roles: the hooks render nothing there, and
    its grant step stays silent instead of warning on every model. -#}

{% macro bi_read_role() -%}
    {{ return(var('bi_read_role', 'csp_bi_reader')) }}
{%- endmacro %}

{% macro ensure_bi_read_role() -%}
    {{ return(adapter.dispatch('ensure_bi_read_role')()) }}
{%- endmacro %}

{% macro default__ensure_bi_read_role() -%}
{%- endmacro %}

{% macro postgres__ensure_bi_read_role() -%}
    {#- Roles are cluster-wide: a concurrent run on another database may create it first. -#}
    do $$
    begin
        if not exists (select from pg_catalog.pg_roles where rolname = '{{ bi_read_role() }}') then
            create role {{ adapter.quote(bi_read_role()) }} nologin;
        end if;
    exception when duplicate_object or unique_violation then
        null;
    end
    $$
{%- endmacro %}

{% macro grant_marts_usage_to_bi_read_role() -%}
    {{ return(adapter.dispatch('grant_marts_usage_to_bi_read_role')()) }}
{%- endmacro %}

{% macro default__grant_marts_usage_to_bi_read_role() -%}
{%- endmacro %}

{% macro postgres__grant_marts_usage_to_bi_read_role() -%}
    do $$
    begin
        if exists (select from pg_catalog.pg_namespace where nspname = 'marts') then
            grant usage on schema marts to {{ adapter.quote(bi_read_role()) }};
        end if;
    end
    $$
{%- endmacro %}

{% macro duckdb__apply_grants(relation, grant_config, should_revoke=True) -%}
{%- endmacro %}
