# Kaira: the two commands of the README, and a few for development.
#   make demo       set up, generate the synthetic sample, run the whole pipeline on it
#   make test       set up, run the whole test suite (unit, dbt, end to end)
#   make test-fast  the unit tests only (pure functions, seconds)
#   make lint       ruff on the Python, sqlfluff on the dbt SQL
#   make wheel      build the package (with its dbt project, suites and report assets) into dist/
#   make dashboard  serve the dashboard over the published tables (PORT=8611 to choose the port)
#   make docs       the published contract's page from the code, and the dbt documentation site
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.installed
MANIFEST := dbt_project/target/manifest.json
export DAGSTER_HOME ?= $(CURDIR)/data/dagster_home
# The demo key is public and protects nothing: for the generated sample only. Ingest
# refuses it on a landing folder without the sample's synthetic marker (README.txt), so
# the fallback below never pseudonymises real registers with it (docs/security.md).
DEMO_KEY := kaira-demo-key-not-secret-synthetic-only

.PHONY: setup demo test test-fast lint dev wheel clean-data dashboard docs

setup: $(STAMP) $(MANIFEST) $(DAGSTER_HOME)/dagster.yaml

# Binaries only, from the lock; then the project itself; then compile the bytecode once
# (these machines set PYTHONDONTWRITEBYTECODE, and imports are 2-4x slower without it).
$(STAMP): requirements/lock.txt pyproject.toml
	test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --only-binary :all: -r requirements/lock.txt
	$(BIN)/pip install --quiet --only-binary :all: --no-deps -e .
	$(BIN)/python -m compileall -q -j 0 $(VENV)/lib > /dev/null || true
	touch $(STAMP)

# The dbt manifest is prepared once here, not on every load of the Dagster definitions.
$(MANIFEST): $(STAMP) $(shell find dbt_project/models dbt_project/macros dbt_project/seeds dbt_project/tests -type f 2>/dev/null) dbt_project/dbt_project.yml
	cd dbt_project && ../$(BIN)/dbt parse --quiet --profiles-dir .
	touch $(MANIFEST)

# Dagster's storage (run history, event and compute logs) is owner-only, as the CLI makes it.
$(DAGSTER_HOME)/dagster.yaml: pipelines/dagster.yaml
	mkdir -p $(DAGSTER_HOME)
	chmod 700 $(DAGSTER_HOME)
	cp pipelines/dagster.yaml $(DAGSTER_HOME)/dagster.yaml
	chmod 600 $(DAGSTER_HOME)/dagster.yaml

# The demo key only when no key (nor key file) is set.
WITH_KEY := if [ -z "$$KAIRA_PSEUDONYM_KEY$$KAIRA_PSEUDONYM_KEY_FILE" ]; then export KAIRA_PSEUDONYM_KEY=$(DEMO_KEY); fi;

demo: setup
	$(WITH_KEY) $(BIN)/kaira demo

test: setup
	$(BIN)/python -m pytest -q --durations=30

test-fast: setup
	$(BIN)/python -m pytest -q tests/unit

lint: setup
	$(BIN)/ruff check .
	$(BIN)/sqlfluff lint dbt_project/models dbt_project/tests dbt_project/macros

# Reads only the published tables; needs no key (KAIRA_PSEUDONYM_KEY is not passed to it).
PORT ?= 8501
dashboard: setup
	$(BIN)/kaira dashboard --port $(PORT)

# docs/published-tables.md's column tables from pipelines/publish/tables.py, then dbt's site
# (models, tests, lineage to the exposures: the reports and the dashboard) in data/dbt_docs.
# --empty-catalog and a warehouse folder of its own: the site is built from the project alone,
# never opening the working warehouse, which a run may be writing (DuckDB has one writer). View it with
# `.venv/bin/python -m http.server -d data/dbt_docs 8080` (the page fetches its JSON files).
DBT_DOCS := data/dbt_docs
docs: setup
	$(BIN)/python tools/published_contract.py
	mkdir -p $(DBT_DOCS)/no_warehouse
	cd dbt_project && KAIRA_WAREHOUSE_DIR=$(CURDIR)/$(DBT_DOCS)/no_warehouse ../$(BIN)/dbt docs generate \
		--quiet --empty-catalog --profiles-dir . --target-path ../$(DBT_DOCS) --log-path ../$(DBT_DOCS)/logs
	@echo "dbt documentation: $(DBT_DOCS)/index.html"

dev: setup
	$(WITH_KEY) $(BIN)/dagster dev -w workspace.yaml

# The wheel carries the dbt project, the suites, the report assets and the instance
# settings as package data (pyproject.toml); install it beside the lock's dependencies.
# build/ goes first: setuptools would put a stale copy left there by an earlier build
# (a file since deleted from the repository) into the wheel.
wheel: $(STAMP)
	rm -rf build
	$(BIN)/pip wheel --quiet --only-binary :all: --no-deps --wheel-dir dist .
	rm -rf build

clean-data:
	rm -rf data/landing data/warehouse data/reports data/quarantine
