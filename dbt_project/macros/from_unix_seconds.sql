{#- A UTC timestamp (without time zone) from Unix seconds, the way Stripe sends every time.
    Both engines read `to_timestamp(seconds)` as a timestamp with time zone; shifting it to UTC
    keeps every timestamp in the warehouse naive and in UTC, so month boundaries do not move
    with the server's time zone. -#}
{% macro from_unix_seconds(seconds) -%}
    (to_timestamp({{ seconds }}) at time zone 'UTC')
{%- endmacro %}
