# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
STAGE ?= dev
# The browser tests: Debian's Chromium (driven by Playwright, never its own browser download)
# and axe-core from npm. Only `make test` needs them; `make run` does not.
CHROMIUM := /usr/bin/chromium
NODE_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | cksum | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run test venv browser bench openapi clean

run: $(STAMP) ## Start the local AWS emulator (127.0.0.1:5000) and the API (127.0.0.1:8000)
	$(PY) -m tools.stack --stage $(STAGE) --autoreload

test: $(STAMP) browser ## Set everything up and run every test
	$(PY) -m pytest

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

browser: $(CHROMIUM) $(NODE_STAMP) ## Headless Chromium and axe-core for the browser tests

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

openapi: $(STAMP) ## Regenerate docs/openapi.json from the routes and models
	$(PY) -m tools.openapi

bench: $(STAMP) ## Cold start vs a naive handler, warm latency, AWS calls per request, package size
	$(PY) -m bench.run

clean:
	rm -rf $(VENV) node_modules .pytest_cache .hypothesis test-output
