# eventgraph: `make demo` runs the whole product, `make test` passes the tests.
# Every target installs what it needs (virtualenv, Python packages, the Neo4j server) and is
# idempotent: a second run reuses what the first one built.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
EG     := $(BIN)/eventgraph
DEMO_USERS ?= 10000
DEMO_SEED  ?= 7
DEMO_DATA  := var/datasets/synthetic-$(DEMO_USERS)

.PHONY: setup demo test lint bench neo4j-start neo4j-stop clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when the dependency list changes.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e ".[dev]"
	touch $@

setup: $(VENV)/.installed
	$(EG) neo4j install

neo4j-start: setup
	$(EG) neo4j start

neo4j-stop:
	$(EG) neo4j stop

demo: neo4j-start
	@test -f $(DEMO_DATA)/users.csv || $(EG) etl generate --users $(DEMO_USERS) --seed $(DEMO_SEED) --out $(DEMO_DATA)
	$(EG) etl load $(DEMO_DATA)
	@test -f var/model/config.json || $(EG) train --out var/model
	$(EG) graph counts
	$(EG) neo4j status
	@echo "Open the Neo4j Browser at http://localhost:7474/browser/ (user neo4j, password from EVENTGRAPH_NEO4J_PASSWORD, default eventgraph-local)."

test: setup
	$(BIN)/ruff check .
	$(BIN)/pytest

lint: setup
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

bench: neo4j-start
	$(BIN)/python benchmarks/etl_load.py
	@if [ -n "$(API_URL)" ]; then $(BIN)/python benchmarks/api_load.py --url $(API_URL); \
	else echo "api_load skipped: start the API and run make bench API_URL=http://127.0.0.1:8000"; fi

clean:
	-$(EG) neo4j stop
	rm -rf var
