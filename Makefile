# Linkage Academy — `make run` serves the demo site, `make test` runs the whole suite.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMPS := .stamps

.PHONY: run test install install-test browser migrate demo serve messages bench-live bench-handbook bench-certificates clean

run: install migrate demo serve

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMPS)/install: requirements.txt $(PY)
	$(PIP) install --quiet -r requirements.txt
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install-test: requirements-test.txt requirements.txt $(STAMPS)/install
	$(PIP) install --quiet -r requirements-test.txt
	@touch $@

install: $(STAMPS)/install messages

install-test: $(STAMPS)/install-test messages browser

# Translation catalogues: committed .mo files are used as they are; msgfmt (gettext) recompiles them when present.
messages: $(STAMPS)/install
	@if command -v msgfmt >/dev/null 2>&1; then $(PY) manage.py compilemessages --ignore=.venv -v 0; fi

# Debian's Chromium for the browser tests (Playwright drives it through executablePath; no browser download).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install chromium fonts-wqy-microhei'"; exit 1; fi; fi

migrate: install
	$(PY) manage.py migrate --no-input -v 0

demo: migrate
	$(PY) manage.py load_demo

serve:
	@echo "Linkage Academy on http://$(HOST):$(PORT)/  (admin: /admin/)"
	$(VENV)/bin/daphne -b $(HOST) -p $(PORT) academy.asgi:application

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

bench-live: install-test
	$(PY) bench/live_load.py $(BENCH_ARGS)

bench-handbook: install-test
	$(PY) bench/handbook_views.py $(BENCH_ARGS)

bench-certificates: install-test
	$(PY) bench/certificates_bulk.py $(BENCH_ARGS)

clean:
	rm -rf $(STAMPS) staticfiles .pytest_cache .test-db.sqlite3*
