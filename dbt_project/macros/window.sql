{#- The processing window, which Dagster sets from a partition range: the first day of the
    first month (inclusive) and of the month after the last (exclusive), from the environment
    variables KAIRA_DBT_MONTH_START and KAIRA_DBT_MONTH_END. An unset or empty one leaves its
    end open; without either, every month.

    Why environment variables read only at execution, not vars: dbt reuses its saved parse
    of the project (partial parsing) only while the --vars stay the same, and the window
    changes from run to run; a full parse cost every dbt invocation over a second. At parse
    time (`execute` false) no window is read, so the saved parse does not depend on it:
    the compiled SQL of the run has the window, the parse has none. -#}
{% macro month_window() -%}
    {%- if not execute -%}
        {{ return({'start': none, 'end': none}) }}
    {%- endif -%}
    {%- if var('month_start', none) is not none or var('month_end', none) is not none -%}
        {{ exceptions.raise_compiler_error(
            "The month window is given by the environment variables KAIRA_DBT_MONTH_START and "
            ~ "KAIRA_DBT_MONTH_END (YYYY-MM-01), not by the vars month_start and month_end") }}
    {%- endif -%}
    {%- set window = {} -%}
    {%- for bound, variable in [('start', 'KAIRA_DBT_MONTH_START'), ('end', 'KAIRA_DBT_MONTH_END')] -%}
        {%- set value = env_var(variable, '') | trim -%}
        {%- if value and not modules.re.fullmatch('[0-9]{4}-(0[1-9]|1[0-2])-01', value) -%}
            {{ exceptions.raise_compiler_error(
                variable ~ " is '" ~ value ~ "': give the first day of a month, YYYY-MM-01") }}
        {%- endif -%}
        {%- do window.update({bound: value or none}) -%}
    {%- endfor -%}
    {{ return(window) }}
{%- endmacro %}

{#- `column` (a month, its first day) within the processing window, or with `months_before`
    within the window moved that many months back (the months before the window's months,
    which a rule comparing a month with an earlier one reads). The bounds are constants, not
    an expression of the column, so DuckDB skips the row groups outside them: a model that
    reads a mart's earlier months otherwise scans every month of the history. -#}
{% macro in_month_window(column, months_before=0) -%}
    {%- set window = month_window() -%}
    (
        {%- if window.start %} {{ column }} >= {{ _window_bound(window.start, months_before) }}{% else %} true{% endif %}
        and
        {%- if window.end %} {{ column }} < {{ _window_bound(window.end, months_before) }}{% else %} true{% endif %}
    )
{%- endmacro %}

{% macro _window_bound(first_day, months_before) -%}
    {%- if months_before -%}
        {{ add_months("cast('" ~ first_day ~ "' as date)", -months_before) }}
    {%- else -%}
        cast('{{ first_day }}' as date)
    {%- endif -%}
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
    {%- set start = month_window().start -%}
    {%- if start -%}
        {{ column }} >= {{ _window_bound(start, rule_lookback_months()) }}
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
