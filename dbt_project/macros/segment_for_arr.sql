{#- The segment (`enterprise`, `mid_market`, `smb`) an ARR amount falls in, by the thresholds in
    the project vars; one definition for every model that segments (DESIGN.md §5). -#}
{% macro segment_for_arr(arr) -%}
    case
        when {{ arr }} >= {{ var('segment_enterprise_min_arr') }} then 'enterprise'
        when {{ arr }} >= {{ var('segment_mid_market_min_arr') }} then 'mid_market'
        else 'smb'
    end
{%- endmacro %}
