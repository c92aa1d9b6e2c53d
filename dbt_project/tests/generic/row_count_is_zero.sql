{#- A generic test that fails (or warns, by its severity) when the model has any row:
    for data-quality summaries whose rows are findings. -#}
{% test row_count_is_zero(model) %}
    select * from {{ model }}
{% endtest %}
