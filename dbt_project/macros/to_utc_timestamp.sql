{#- A naive UTC timestamp from a CRM or support time, whether the raw column is a timestamp
    with time zone (dlt types ISO times it detects so) or ISO text with an offset (a field dlt
    was told is text): every warehouse timestamp is naive UTC, as `from_unix_seconds` makes
    Stripe's, so days and months do not move with the server's time zone. -#}
{% macro to_utc_timestamp(column) -%}
    (cast({{ column }} as timestamp with time zone) at time zone 'UTC')
{%- endmacro %}
