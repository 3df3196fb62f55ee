# The two commands a newcomer needs:
#   make run    - create .venv, install, run all three services with demo data (SQLite)
#   make test   - create .venv, install, run the test suite on SQLite and on PostgreSQL
PYTHON ?= python3
VENV   ?= .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.installed

.PHONY: run test test-sqlite test-postgresql lint typecheck openapi install clean bench drills lock lock-check eval-monitoring

# Installed from the lock file (exact versions and hashes), then the project itself without deps.
$(STAMP): pyproject.toml requirements-dev.lock
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python 3.11 or newer is needed")'
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet --require-hashes --no-deps -r requirements-dev.lock
	$(BIN)/python -m pip install --quiet --no-deps -e .
	@touch $(STAMP)

# requirements.lock: what the image installs; requirements-dev.lock: that plus the dev tools.
# `make lock` after changing pyproject.toml (existing pins are kept where they still fit);
# `make lock-check` (CI) fails when a lock no longer matches pyproject.toml.
LOCK_ARGS := --generate-hashes --python-version 3.11 --quiet --no-header
lock:  # needs uv: the dev venv has it (pip install uv otherwise)
	$(BIN)/uv pip compile pyproject.toml $(LOCK_ARGS) -o requirements.lock
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_ARGS) -o requirements-dev.lock

lock-check: $(STAMP)
	@tmp=$$(mktemp -d) && cp requirements.lock requirements-dev.lock $$tmp/ && \
	$(BIN)/uv pip compile pyproject.toml $(LOCK_ARGS) -o $$tmp/requirements.lock && \
	$(BIN)/uv pip compile pyproject.toml --extra dev $(LOCK_ARGS) -o $$tmp/requirements-dev.lock && \
	diff -u requirements.lock $$tmp/requirements.lock && diff -u requirements-dev.lock $$tmp/requirements-dev.lock \
	|| { echo "a lock file is stale: run 'make lock' and commit it"; exit 1; }

install: $(STAMP)

run: $(STAMP)
	$(BIN)/civicsocial dev

# pytest exits 5 when it collected no tests; that is not a failure of the code under test.
# Each test folder runs in its own pytest process, so one folder's live servers, files and threads
# cannot reach the next. The cross-folder failures that led to it (SQLite files "malformed" after
# tests/case_api) are traced and fixed: two retention tests read a WAL database's raw bytes in the
# pytest process, and closing those handles dropped SQLite's locks, so a later server deleted the
# -wal file under live connections (202813d; tests/conftest.py now fails any test that does that).
# Five folders in one process: 715 passed. Every folder runs, and any failure fails the target.
TEST_DIRS := $(sort $(dir $(wildcard tests/*/test_*.py)))

test: test-sqlite test-postgresql

test-sqlite: $(STAMP)
	@fail=0; for d in $(TEST_DIRS); do echo "== $$d (sqlite)"; \
	  $(BIN)/python -m pytest --db sqlite $(PYTEST_ARGS) $$d || [ $$? -eq 5 ] || fail=1; done; exit $$fail

test-postgresql: $(STAMP)
	@pg_isready -q -h 127.0.0.1 -p 5432 || { echo "PostgreSQL is not answering on 127.0.0.1:5432 (see README: Tests)"; exit 1; }
	@fail=0; for d in $(TEST_DIRS); do echo "== $$d (postgresql)"; \
	  $(BIN)/python -m pytest --db postgresql $(PYTEST_ARGS) $$d || [ $$? -eq 5 ] || fail=1; done; exit $$fail

lint: $(STAMP) lock-check
	$(BIN)/ruff check .
	$(BIN)/civicsocial openapi --check

typecheck: $(STAMP)
	$(BIN)/mypy shared services

openapi: $(STAMP)
	$(BIN)/civicsocial openapi

bench: $(STAMP)
	$(BIN)/python -m bench

# issue 18: precision and recall of the monitoring risk scorer per rule, on the held-out labelled set
eval-monitoring: $(STAMP)
	$(BIN)/python -m services.case_api.risk_eval --part heldout

drills: $(STAMP)
	$(BIN)/python -m pytest -m slow tests/drills

clean:
	rm -rf $(VENV) data .pytest_cache .mypy_cache .ruff_cache
