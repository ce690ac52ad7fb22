# OneMap: `make run` serves the demo, `make test` runs every check. Both set up what is missing.
SHELL := /bin/bash
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
PORT ?= 8000
export DJANGO_SETTINGS_MODULE := onemap.settings

.PHONY: run test db stop deps venv migrate demo lint messages i18n bench loadtest

deps:
	@onemap/bin/system-deps.sh

# The venv is rebuilt only when requirements.txt changes.
$(VENV)/.installed: requirements.txt
	@$(PYTHON) -c 'import sys; sys.exit(0 if sys.version_info >= (3, 11) else "Python >= 3.11 required")'
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	@$(PY) -m pip install -q --upgrade pip
	@$(PY) -m pip install -q -r requirements.txt
	@touch $@

venv: deps $(VENV)/.installed

# Compiled translations (.mo) are build output, made from the committed .po files.
i18n: venv
	@$(PY) manage.py compilemessages --ignore=.venv --ignore=.local -v 0

db: deps
	@onemap/bin/localdb.sh start

stop:
	@onemap/bin/localdb.sh stop

# Migrations run as the database owner; everything else (load_demo, imports, the server) as the app
# role, which owns nothing and cannot rewrite the audit trail (README "Database roles").
migrate: venv i18n db
	@ONEMAP_DB_ROLE=owner $(PY) manage.py migrate --noinput -v 0

demo: migrate
	@$(PY) manage.py load_demo

# gunicorn (onemap/gunicorn.conf.py: WEB_WORKERS × WEB_THREADS, timeouts, access log on stdout).
# ONEMAP_DEMO=1: the demo accounts keep their published password on purpose (README "Demo accounts").
run: export ONEMAP_DEMO := 1
run: demo
	@$(PY) manage.py collectstatic --noinput -v 0
	@echo "OneMap serving on http://127.0.0.1:$(PORT)/  (Ctrl+C to stop)"
	@PORT=$(PORT) $(VENV)/bin/gunicorn -c onemap/gunicorn.conf.py onemap.wsgi:application

# A burst against the server that `make run` serves (in another terminal): 4 waves of 200 concurrent
# requests, statuses and peak database connections (onemap/bin/burst.py; LOADTEST_ARGS e.g. "--waves 8").
loadtest: venv
	@$(PY) onemap/bin/burst.py --url http://127.0.0.1:$(PORT) $(LOADTEST_ARGS)

# Benchmarks (issue #3) in a separate database `onemap_bench`; BENCH_ARGS e.g. "--total 100000".
bench: venv db
	@$(PY) -m tests.bench.run $(BENCH_ARGS)

lint: venv
	@$(VENV)/bin/ruff check .

messages: venv
	@$(PY) manage.py makemessages -l zh_Hans -l en --ignore=.venv --ignore=.local
	@$(PY) manage.py compilemessages --ignore=.venv --ignore=.local

test: venv i18n db
	@$(VENV)/bin/ruff check .
	@$(PY) manage.py makemigrations --check --dry-run -v 1
	@$(VENV)/bin/pytest
