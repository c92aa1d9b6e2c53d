{#- Use the configured schema as it is (staging, intermediate, marts, reference), not
    prefixed with the target schema: the warehouse is one DuckDB file per deployment. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {%- if custom_schema_name is none -%}{{ target.schema }}{%- else -%}{{ custom_schema_name | trim }}{%- endif -%}
{%- endmacro %}
