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

.PHONY: setup demo test lint bench neo4j-start neo4j-stop api-stop clean

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

# The demo's write key: EVENTGRAPH_API_KEY when set, else one generated once into var/api-key
# (never committed: var/ is ignored).
API_KEY_FILE := var/api-key
API_URL_DEMO := http://127.0.0.1:8000

demo: neo4j-start
	@test -f $(DEMO_DATA)/users.csv || $(EG) etl generate --users $(DEMO_USERS) --seed $(DEMO_SEED) --out $(DEMO_DATA)
	$(EG) etl load $(DEMO_DATA)
	@$(BIN)/python -c "from pathlib import Path; from gnn.artifacts import load_model; load_model(Path('var/model'))" 2>/dev/null \
		|| $(EG) train --out var/model
	$(EG) graph counts
	@test -n "$$EVENTGRAPH_API_KEY" || test -s $(API_KEY_FILE) \
		|| $(BIN)/python -c "import secrets; print(secrets.token_urlsafe(24))" > $(API_KEY_FILE)
	EVENTGRAPH_API_KEY="$${EVENTGRAPH_API_KEY:-$$(cat $(API_KEY_FILE))}" $(EG) serve --detach
	$(EG) neo4j status
	@echo ""
	@echo "Recommendations:  curl -s '$(API_URL_DEMO)/users/u000042/recommendations?k=5' | python3 -m json.tool"
	@echo "A newcomer:       curl -s '$(API_URL_DEMO)/users/new-person/recommendations?lat=41.88&lon=-87.63&k=5'"
	@echo "A write:          curl -s -X POST $(API_URL_DEMO)/registrations -H \"X-API-Key: $$(cat $(API_KEY_FILE) 2>/dev/null || echo \$$EVENTGRAPH_API_KEY)\" -H 'Content-Type: application/json' -d '{\"user_id\": \"u000042\", \"event_id\": \"e000100\"}'"
	@echo "API docs:         $(API_URL_DEMO)/docs   (stop it with: $(EG) serve --stop)"
	@echo "Neo4j Browser:    http://localhost:7474/browser/ (user neo4j, password from EVENTGRAPH_NEO4J_PASSWORD, default eventgraph-local)"

api-stop:
	-$(EG) serve --stop

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
	-$(EG) serve --stop
	-$(EG) neo4j stop
	rm -rf var
