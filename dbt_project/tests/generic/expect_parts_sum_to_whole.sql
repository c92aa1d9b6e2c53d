{#- Parts add up to their whole, in a long table (one value per row): the pattern of PUDL's
    expect_subcomponents_sum_to_total, for rows instead of columns.

    Every row selected by `whole_where` is a whole; its parts are the rows selected by
    `parts_where` whose `part_keys` equal the whole's `keys` (`part_keys` defaults to
    `keys`; a municipality's `parent_area_code` plays its region's `area_code`). The
    relation holds where the whole and all its parts are known and differ by at most
    `tolerance`, or where the whole and every part are NULL (not computed). A whole
    without parts must be 0. `row_condition` narrows both sides (e.g. to the indicators
    the relation applies to); it is an argument, not the `where` config, because
    dbt renders custom macros such as in_list() only in arguments. Returns the wholes where it does not hold, with the sum of
    their parts. Counts are whole numbers stored as DOUBLE, so the default half-cent
    tolerance is exact for counts and absorbs float noise in euro sums. -#}
{% test expect_parts_sum_to_whole(model, column_name, keys, whole_where, parts_where, part_keys=none, row_condition='true', tolerance=0.005) %}
{%- set part_keys = part_keys or keys -%}

with wholes as (

    select
        {%- for key in keys %}
        {{ key }} as key_{{ loop.index }},
        {%- endfor %}
        {{ column_name }} as whole_value
    from {{ model }}
    where ({{ whole_where }}) and ({{ row_condition }})

),

parts as (

    select
        {%- for key in part_keys %}
        {{ key }} as key_{{ loop.index }},
        {%- endfor %}
        count(*) as part_rows,
        count({{ column_name }}) as known_parts,
        sum({{ column_name }}) as parts_sum
    from {{ model }}
    where ({{ parts_where }}) and ({{ row_condition }})
    group by {% for key in part_keys %}{{ key }}{{ ", " if not loop.last }}{% endfor %}

)

select
    wholes.*,
    parts.part_rows,
    parts.known_parts,
    parts.parts_sum
from wholes
left join parts
    on {% for key in keys %}wholes.key_{{ loop.index }} = parts.key_{{ loop.index }}{{ "\n    and " if not loop.last }}{% endfor %}
where case
    when wholes.whole_value is null then coalesce(parts.known_parts, 0) > 0
    else coalesce(parts.known_parts, 0) < coalesce(parts.part_rows, 0)
        or abs(wholes.whole_value - coalesce(parts.parts_sum, 0)) > {{ tolerance }}
end

{% endtest %}
