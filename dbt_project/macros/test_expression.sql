{#- A generic data test without packages (dbt deps would download from outside the
    package registries): every row must satisfy `expression`. -#}
{% test row_satisfies(model, expression) %}
    select * from {{ model }} where not ({{ expression }})
{% endtest %}
