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
