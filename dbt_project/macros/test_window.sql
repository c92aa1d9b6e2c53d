{#- dbt passes the model of every generic data test through this macro (it applies the
    test's `where` config). Kaira adds the run's window: the marts are rebuilt month by
    month for the window and the staging views are read for its deliveries, so their tests
    check what this run built, and a month's cost does not grow with the history in the
    warehouse (the runs of earlier windows tested theirs). Without a window (a rebuild of
    every month) nothing is added and the tests check everything. -#}
{% macro get_where_subquery(relation) -%}
    {%- set conditions = [] -%}
    {%- set where = config.get('where') -%}
    {%- if where -%}
        {%- do conditions.append('(' ~ where ~ ')') -%}
    {%- endif -%}
    {%- if relation.schema == 'marts' -%}
        {%- do conditions.append(in_month_window('month')) -%}
    {%- elif relation.schema == 'staging' -%}
        {%- do conditions.append(in_deliveries_for_window('delivery_month')) -%}
    {%- endif -%}
    {%- if conditions -%}
        {%- set filtered -%}
            (select * from {{ relation }} where {{ conditions | join(' and ') }}) as dbt_subquery
        {%- endset -%}
        {%- do return(filtered) -%}
    {%- else -%}
        {%- do return(relation) -%}
    {%- endif -%}
{%- endmacro %}
