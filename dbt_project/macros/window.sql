{#- The processing window from the vars that Dagster builds from a partition range.
    `column` is a month (first day). Without vars the window is open: every month. -#}
{% macro in_month_window(column) -%}
    {%- set start = var('month_start') -%}
    {%- set end = var('month_end') -%}
    (
        {%- if start %} {{ column }} >= cast('{{ start }}' as date){% else %} true{% endif %}
        and
        {%- if end %} {{ column }} < cast('{{ end }}' as date){% else %} true{% endif %}
    )
{%- endmacro %}

{#- The area scope as a SQL predicate on a region code column. -#}
{% macro in_area_scope(region_column) -%}
    {%- set scope = var('area_scope') | string | trim -%}
    {%- if scope | lower == 'all' -%}
        true
    {%- else -%}
        {{ region_column }} in (
            {%- for code in scope.split(',') -%}
                '{{ code | trim | upper }}'{% if not loop.last %}, {% endif %}
            {%- endfor -%}
        )
    {%- endif -%}
{%- endmacro %}

{% macro scope_includes_country() -%}
    {{ return((var('area_scope') | string | trim | lower) == 'all') }}
{%- endmacro %}

{#- The deliveries that can hold a spell relevant to a month of the window: from the
    window's first month back by the widest look-back. Without a window, every delivery. -#}
{% macro in_deliveries_for_window(column) -%}
    {%- if var('month_start') -%}
        {{ column }} >= {{ add_months("cast('" ~ var('month_start') ~ "' as date)", -rule_lookback_months()) }}
    {%- else -%}
        true
    {%- endif -%}
{%- endmacro %}

{#- How far back from a count date any rule of the definitions (docs/definitions.md) looks: the widest of its
    windows. Spells that ended before it cannot change a month's figures. -#}
{% macro rule_lookback_months() -%}
    {{ return([var('long_term_months'), var('equivalent_window_months'), var('return_window_months'),
               var('service_lookback_months')] | max) }}
{%- endmacro %}
