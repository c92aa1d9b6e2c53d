{#- No value of the column is below zero (NULL is not checked), on the rows where
    `row_condition` holds, e.g. person counts but not euros. -#}
{% test expect_not_negative(model, column_name, row_condition='true') %}

select *
from {{ model }}
where {{ column_name }} < 0
    and ({{ row_condition }})

{% endtest %}
