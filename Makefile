# SolarHub — two commands: `make run` and `make test`. Everything else is a helper.
SHELL := /bin/bash
PYTHON ?= python3
VENV ?= .venv
BIN := $(VENV)/bin
PORT ?= 8000
HOST ?= 0.0.0.0

.PHONY: run test lint format install migrate seed worker beat bench fuzz clean help

help:
	@echo "make run    - install, migrate, seed demo data and serve on $(HOST):$(PORT)"
	@echo "make test   - install and run the whole test suite"
	@echo "make lint   - ruff check + ruff format --check"
	@echo "make worker / make beat - Celery worker / beat (needs REDIS_URL)"

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)

$(VENV)/.installed: requirements.txt | $(BIN)/python
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -r requirements.txt
	@touch $@

install: $(VENV)/.installed

migrate: install
	$(BIN)/python manage.py migrate --noinput

seed: migrate
	$(BIN)/python manage.py seed_demo --collector

run: seed
	@echo ""
	@echo "  SolarHub is starting on http://$(HOST):$(PORT)"
	@echo "  API docs:  http://localhost:$(PORT)/api/docs/   (ReDoc: /api/redoc/, schema: /api/schema/)"
	@echo "  Admin:     http://localhost:$(PORT)/admin/      (user admin / solarhub-admin)"
	@echo "  Health:    http://localhost:$(PORT)/health/ready"
	@echo ""
	$(BIN)/python manage.py runserver $(HOST):$(PORT)

# The suite runs under coverage and fails below pyproject's fail_under (the gate), also with
# PYTEST_ARGS options (CI passes some); COVERAGE_GATE=0 for a selection of tests.
COVERAGE_GATE ?= 1
test: install
	@$(BIN)/python -m coverage run -m pytest $(PYTEST_ARGS) || exit $$?; \
	if [ "$(COVERAGE_GATE)" = "1" ]; then \
		$(BIN)/python -m coverage report --skip-covered --sort=cover > .coverage-report.txt; status=$$?; \
		grep -E "^TOTAL" .coverage-report.txt; \
		if [ $$status -ne 0 ]; then echo "coverage below the gate (pyproject fail_under); see .coverage-report.txt"; fi; \
		exit $$status; \
	fi

lint: install
	$(BIN)/ruff check .
	$(BIN)/ruff format --check .

format: install
	$(BIN)/ruff check --fix .
	$(BIN)/ruff format .

worker: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-solarhub.settings.local} $(BIN)/celery -A solarhub worker --loglevel=INFO

beat: install
	DJANGO_SETTINGS_MODULE=$${DJANGO_SETTINGS_MODULE:-solarhub.settings.local} $(BIN)/celery -A solarhub beat --loglevel=INFO

bench: install
	@for script in bench/bench_*.py bench/forecast.py; do echo "== $$script"; $(BIN)/python $$script || exit 1; done

# Schemathesis over every operation with more generated cases than the suite's (FUZZ_EXAMPLES=10).
fuzz: install
	FUZZ_EXAMPLES=$${FUZZ_EXAMPLES:-100} $(BIN)/python -m pytest solarhub/tests/test_fuzz.py $(PYTEST_ARGS)

clean:
	rm -rf $(VENV) .data .pytest_cache .ruff_cache .coverage .coverage-report.txt
