{#- Month arithmetic as the definitions have it (docs/definitions.md, "Dates"): keep the day number, clamp it to the
    target month's length. dbt's cross-database dateadd does that on DuckDB and the
    engines we target; the cast keeps a date, not a timestamp. -#}
{% macro add_months(date_expr, months) -%}
    cast({{ dbt.dateadd('month', months, date_expr) }} as date)
{%- endmacro %}

{% macro add_days(date_expr, days) -%}
    cast({{ dbt.dateadd('day', days, date_expr) }} as date)
{%- endmacro %}

{#- An open spell (no end date) runs on indefinitely. -#}
{% macro open_end(end_date_expr) -%}
    coalesce({{ end_date_expr }}, cast('9999-12-31' as date))
{%- endmacro %}
