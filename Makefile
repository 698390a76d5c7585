# Linkage Academy — `make run` serves the demo site, `make test` runs the whole suite.
#   make run [PORT=8000] [HOST=127.0.0.1]   virtual environment, packages, database, demo content, site
#   make test [PYTEST_ARGS="-k live -x"]    the whole suite
#   make prod-rehearsal                     production steps behind a real nginx (deploy/rehearsal.py)
#   make requirements / make upgrade-deps   recompile the pins from requirements*.in / move them to the newest allowed
#   make audit                              known vulnerabilities in the pinned packages (pip-audit)
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
PIP    := $(VENV)/bin/pip
HOST   ?= 127.0.0.1
PORT   ?= 8000
STAMPS := .stamps
PIP_COMPILE := $(VENV)/bin/pip-compile --quiet --generate-hashes --allow-unsafe --strip-extras \
               --no-emit-index-url --no-emit-find-links

.PHONY: run test install install-test browser migrate demo serve messages requirements upgrade-deps audit \
        prod-rehearsal bench-live bench-join-links bench-hosts bench-handbook bench-certificates clean

run: install migrate demo serve

$(PY):
	@echo "==> Creating the virtual environment in $(VENV)/"
	$(PYTHON) -m venv $(VENV)
	$(PIP) install --quiet --upgrade pip

$(STAMPS)/install: requirements.txt $(PY)
	@echo "==> Installing the pinned Python packages (requirements.txt; the first time takes a minute or two) ..."
	$(PIP) install --quiet -r requirements.txt
	@mkdir -p $(STAMPS) && touch $@

$(STAMPS)/install-test: requirements-test.txt requirements.txt $(STAMPS)/install
	@echo "==> Installing what the tests need (requirements-test.txt) ..."
	$(PIP) install --quiet -r requirements-test.txt
	@touch $@

# The translation catalogues' compiled .mo files are committed (a test checks they match their .po sources), so
# `make run` uses them as they are and leaves the working tree unchanged. After editing a .po: `make messages`.
install: $(STAMPS)/install

install-test: $(STAMPS)/install-test browser

messages: $(STAMPS)/install
	$(PY) manage.py compilemessages --ignore=.venv -v 0

# Debian's Chromium for the browser tests (Playwright drives it through executablePath; no browser download).
browser:
	@if ! command -v chromium >/dev/null 2>&1; then \
	  if [ "$$(id -u)" = 0 ]; then apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium fonts-wqy-microhei >/dev/null; \
	  else echo "Chromium is missing: run 'sudo apt-get install chromium fonts-wqy-microhei'"; exit 1; fi; fi

migrate: install
	@echo "==> Migrating the database (the first time builds every table: about half a minute) ..."
	$(PY) manage.py migrate --no-input -v 0

demo: migrate
	@echo "==> Loading the demo content (load_demo) ..."
	$(PY) manage.py load_demo

# Daphne in the foreground; the address is printed once it accepts connections (scripts/dev_serve.py).
serve:
	@echo "==> Starting Daphne on $(HOST):$(PORT) (another port: make run PORT=8001) ..."
	@$(PY) scripts/dev_serve.py $(HOST) $(PORT)

test: install-test
	$(PY) -m pytest $(PYTEST_ARGS)

# --- dependencies: requirements*.in name what we use; requirements*.txt pin the whole tree with hashes ----------
requirements: $(STAMPS)/install-test
	$(PIP_COMPILE) -o requirements.txt requirements.in
	$(PIP_COMPILE) -o requirements-test.txt requirements-test.in
	@echo "==> Pins recompiled. Install them with: make install-test"

upgrade-deps: $(STAMPS)/install-test
	$(PIP_COMPILE) --upgrade -o requirements.txt requirements.in
	$(PIP_COMPILE) --upgrade -o requirements-test.txt requirements-test.in
	@echo "==> Pins moved to the newest allowed versions: review 'git diff requirements*.txt', then"
	@echo "    make install-test && make test  (tests/deploy/test_pins.py fails while the live room's fast paths"
	@echo "    do not engage with the new Daphne/Twisted/autobahn/txaio/asgiref versions)"

audit: $(STAMPS)/install-test
	$(PY) scripts/audit_dependencies.py

# --- the production rehearsal (needs PostgreSQL and Redis: DATABASE_URL, REDIS_URL; nginx, installed if missing) -
prod-rehearsal: $(STAMPS)/install
	$(PY) deploy/rehearsal.py $(REHEARSAL_ARGS)

bench-live: install-test
	$(PY) bench/live_load.py $(BENCH_ARGS)

bench-join-links: install-test
	$(PY) bench/live_join_links.py $(BENCH_ARGS)

# Three hosts behind nginx, one killed mid-session, Redis restarted (needs DATABASE_URL's PostgreSQL server, nginx,
# redis-server; starts its own Redis and database): make bench-hosts BENCH_ARGS="--participants 2000"
bench-hosts: install-test
	$(PY) bench/live_hosts.py $(BENCH_ARGS)

bench-handbook: install-test
	$(PY) bench/handbook_views.py $(BENCH_ARGS)

bench-certificates: install-test
	$(PY) bench/certificates_bulk.py $(BENCH_ARGS)

clean:
	rm -rf $(STAMPS) staticfiles .pytest_cache .test-db.sqlite3*
