{#- The published indicators in the contract's order (docs/published-tables.md): the order of tie-breaks in
    disclosure control and of the published rows. -#}
{% macro jobseeker_indicators() -%}
    {{ return(['unemployed', 'long_term_unemployed', 'equivalent_long_term_unemployed',
               'returned_from_services', 'service_to_service', 'structural_unemployed',
               'youth_unemployed', 'laid_off', 'in_services', 'structural_inflow']) }}
{%- endmacro %}

{% macro kela_count_indicators() -%}
    {{ return(['tmt_recipients', 'tmt_recipients_300_499', 'tmt_recipients_500_999',
               'tmt_recipients_1000_plus', 'tmt_recipients_over_500']) }}
{%- endmacro %}

{% macro kela_euro_indicators() -%}
    {{ return(['tmt_paid_eur', 'tmt_municipal_share_eur', 'tmt_municipal_share_expected_eur',
               'tmt_municipal_share_diff_eur']) }}
{%- endmacro %}

{#- Not published: the persons behind a cell's euros, for the euro block's disclosure rule. -#}
{% macro internal_indicators() -%}
    {{ return(['tmt_persons_any_row']) }}
{%- endmacro %}

{% macro all_indicators() -%}
    {{ return(jobseeker_indicators() + kela_count_indicators() + kela_euro_indicators() + internal_indicators()) }}
{%- endmacro %}

{#- The relations between the rows of fct_indicators_monthly (METRICS.md), as its data
    tests state them. structural_unemployed is the sum of these four disjoint groups. -#}
{% macro structural_group_indicators() -%}
    {{ return(['long_term_unemployed', 'equivalent_long_term_unemployed', 'returned_from_services',
               'service_to_service']) }}
{%- endmacro %}

{#- A region equals the sum of its municipalities for the register's counts and the euros;
    Kela's recipient counts are distinct persons (one person can be billed by two
    municipalities of a region), so they need not add up. -#}
{% macro region_additive_indicators() -%}
    {{ return(jobseeker_indicators() + kela_euro_indicators()) }}
{%- endmacro %}

{#- Person counts: every indicator but the euros (which may be negative: recoveries). -#}
{% macro count_indicators() -%}
    {{ return(jobseeker_indicators() + kela_count_indicators() + internal_indicators()) }}
{%- endmacro %}

{#- `column in ('a', 'b', ...)`: lets a test's `where` config in YAML use the lists above. -#}
{% macro in_list(column, values) -%}
    {{ column }} in ({% for value in values %}'{{ value }}'{{ ", " if not loop.last }}{% endfor %})
{%- endmacro %}
