{#- Which source of a subscription's history wins when two describe the same instant: the
    state as last loaded, then an event's object, then the state before the first loaded event
    (rebuilt from its previous_attributes), then invoices, then a discount's own start. -#}
{% macro billing_source_priority(source) -%}
    case {{ source }}
        when 'current' then 4
        when 'event' then 3
        when 'event_previous' then 2
        when 'discount_start' then 0
        else 1
    end
{%- endmacro %}
