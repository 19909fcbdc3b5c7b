# The two commands: `make run` and `make test`. Everything else is a helper for them.
PYTHON ?= $(shell command -v python3.11 || command -v python3)
VENV := .venv
BIN := $(VENV)/bin
PORT ?= 5000
HOST ?= 127.0.0.1
FLASK := $(BIN)/flask --app wsgi

.PHONY: run test bench install install-test lint translations clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/pip install --quiet --upgrade pip

# Reinstall when pyproject.toml changes; the stamp files record what is installed.
$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e .
	touch $@

$(VENV)/.installed-test: pyproject.toml | $(BIN)/python
	$(BIN)/pip install --quiet -e '.[test]'
	touch $(VENV)/.installed $@

install: $(VENV)/.installed
install-test: $(VENV)/.installed-test

run: install
	$(FLASK) db upgrade
	$(FLASK) lms demo --if-empty
	@echo ""
	@echo "  Serving http://$(HOST):$(PORT)  (demo accounts: learner@, trainer@, coordinator@,"
	@echo "  admin@example.org, password: demo-password)"
	@echo ""
	$(FLASK) run --host $(HOST) --port $(PORT)

test: install-test
	$(BIN)/pytest $(PYTEST_ARGS)

bench: install-test
	$(BIN)/python -m bench $(BENCH_ARGS)

lint: install-test
	$(BIN)/ruff check lms courses quizzes certificates tests bench

# Extract each package's UI strings into its own catalogue, update, then compile.
translations: install-test
	@for pkg in lms courses quizzes certificates; do \
	  [ -d $$pkg/translations/bg ] || continue; \
	  $(BIN)/pybabel extract -F babel.cfg -k _l -o /tmp/lms-$$pkg.pot $$pkg && \
	  $(BIN)/pybabel update -i /tmp/lms-$$pkg.pot -d $$pkg/translations --no-fuzzy-matching && \
	  $(BIN)/pybabel compile -d $$pkg/translations; \
	done

clean:
	rm -rf $(VENV) instance .pytest_cache
