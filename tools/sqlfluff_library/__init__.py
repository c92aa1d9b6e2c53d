"""Stand-ins for dbt's Jinja context so that sqlfluff's plain Jinja templater renders the
models without dbt or a database (see .sqlfluff). They only shape SQL for the linter;
dbt itself compiles what runs. var() gives the defaults of dbt_project.yml, so window
arithmetic and lists render as they do in a run."""

from pathlib import Path

import yaml

_VARS = yaml.safe_load((Path(__file__).resolve().parents[2] / "dbt_project" / "dbt_project.yml").read_text())["vars"]


def var(name, default=None):
    value = _VARS.get(name, default)
    return 1 if value is None else value


def ref(name, *rest):
    return name if not rest else rest[-1]


def source(source_name, table_name):
    return f"{source_name}.{table_name}"


def config(**options):
    return ""


def is_incremental():
    return True


def env_var(name, default=""):
    return default
