# Two commands on a fresh machine: `make run` and `make test`.
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
STAGE ?= dev

.PHONY: run test venv clean

run: $(STAMP) ## Start the local AWS emulator (127.0.0.1:5000) and the API (127.0.0.1:8000)
	$(PY) -m tools.stack --stage $(STAGE) --autoreload

test: $(STAMP) ## Set everything up and run every test
	$(PY) -m pytest

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

clean:
	rm -rf $(VENV) .pytest_cache .hypothesis test-output
