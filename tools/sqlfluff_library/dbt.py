"""Stand-ins for the dbt cross-database macros the models call (`dbt.dateadd` ...), for
the linter only: each returns DuckDB SQL of the same shape."""


def dateadd(datepart, interval, from_date_or_timestamp):
    return f"({from_date_or_timestamp} + interval ({interval}) {datepart})"


def datediff(first_date, second_date, datepart):
    return f"date_diff('{datepart}', {first_date}, {second_date})"


def date_trunc(datepart, date):
    return f"date_trunc('{datepart}', {date})"


def date_spine(datepart, start_date, end_date):
    return f"select unnest(generate_series({start_date}, {end_date}, interval 1 {datepart})) as date_{datepart}"
