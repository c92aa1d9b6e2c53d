{#- Fails with each value of `column_name` that goes with more than one value of
    `other_column`: for a key derived from a longer identifier (person_key from the
    pseudonym), a collision would otherwise merge two persons without a word. -#}
{% test has_one_value_of(model, column_name, other_column) %}
    select
        {{ column_name }},
        min({{ other_column }}) as first_value,
        max({{ other_column }}) as last_value
    from {{ model }}
    group by {{ column_name }}
    having min({{ other_column }}) <> max({{ other_column }})
{% endtest %}
