-- Person counts are never negative (euros may be: recoveries and refunds).
select *
from {{ ref('fct_indicators_monthly') }}
where indicator not like '%\_eur' escape '\'
    and value < 0
