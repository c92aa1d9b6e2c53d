{#- Repeat each row of `cte` (which has `month` and `municipality_code`) once for each
    published area it belongs to: its municipality, its region on the count date and,
    with scope 'all', the whole country. Rows of municipalities outside the scope drop
    out here (they are counted in fct_out_of_scope_records). -#}
{% macro expand_to_areas(cte, columns) -%}
    {%- set levels = [("'KU' || m.municipality_code", 'municipality'), ('m.region_code', 'region')] -%}
    {%- if scope_includes_country() -%}{%- do levels.append(("'SSS'", 'country')) -%}{%- endif -%}
    {%- for area_expr, level in levels %}
    select
        {{ cte }}.month,
        {{ area_expr }} as area_code,
        {%- for column in columns %}
        {{ cte }}.{{ column }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ cte }}
    inner join {{ ref('int_municipality_regions_monthly') }} as m
        on m.month = {{ cte }}.month
        and m.municipality_code = {{ cte }}.municipality_code
        and m.in_scope
    {% if not loop.last %}union all{% endif %}
    {%- endfor %}
{%- endmacro %}

{#- The same aggregate by sex and for both sexes together ('total'). -#}
{% macro by_sex_and_total(cte, group_columns, aggregates) -%}
    select {{ group_columns | join(', ') }}, sex,
        {%- for name, expression in aggregates %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ cte }}
    group by {{ group_columns | join(', ') }}, sex
    union all
    select {{ group_columns | join(', ') }}, 'total' as sex,
        {%- for name, expression in aggregates %}
        {{ expression }} as {{ name }}{% if not loop.last %},{% endif %}
        {%- endfor %}
    from {{ cte }}
    group by {{ group_columns | join(', ') }}
{%- endmacro %}
