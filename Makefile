# Two commands on a fresh machine: `make run` and `make test`.
# Python 3.13, the Lambda runtime (infra/resources.json): chalice packages the wheels of the
# Python that runs it. Not on PATH? tools/find_python.sh looks under pyenv, else says how to get it.
PYTHON ?= python3.13
VENV := .venv
PY := $(VENV)/bin/python
STAMP := $(VENV)/.installed-py313-$(shell cat requirements.txt requirements-dev.txt | cksum | cut -d' ' -f1)
STAGE ?= dev
# The browser tests: Debian's Chromium (driven by Playwright, never its own browser download)
# and axe-core from npm. Only `make test` needs them; `make run` does not.
CHROMIUM := /usr/bin/chromium
MSGFMT := /usr/bin/msgfmt
NODE_STAMP := node_modules/.installed-$(shell cat package.json package-lock.json | cksum | cut -d' ' -f1)
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)
# `make package` / `make deploy` (docs/deploy.md): the stack for STAGE, built into PACKAGE_DIR.
PACKAGE_DIR ?= build/package
STACK ?= appointments-$(STAGE)
ARTIFACT_BUCKET ?=
PARAMETERS ?=

.PHONY: run test venv browser checkov bench openapi screenshots clean package deploy i18n

run: $(STAMP) ## Start the local AWS emulator (127.0.0.1:5000) and the API (127.0.0.1:8000)
	$(PY) -m tools.stack --stage $(STAGE) --autoreload

# The end-to-end tests mostly wait (on the stack, the browser, the stream); the rest mostly compute. They run at
# once, the fast layers at a low priority in the background (their report in test-output/fast-layers.txt, shown
# after), each with the log audit of what its own process logged.
FAST_LAYERS := tests/unit tests/integration tests/infra
test: $(STAMP) browser checkov $(MSGFMT) ## Set everything up and run every test
	@mkdir -p test-output
	@{ nice -n 15 $(PY) -m pytest -q $(FAST_LAYERS) tests/test_log_audit.py > test-output/fast-layers.txt 2>&1; \
	  echo $$? > test-output/fast-layers.rc; } & \
	$(PY) -m pytest tests/e2e tests/test_log_audit.py; e2e=$$?; wait; fast=$$(cat test-output/fast-layers.rc); \
	  echo "== unit, integration and infra (test-output/fast-layers.txt) =="; \
	  if [ "$$fast" = 0 ]; then tail -n 3 test-output/fast-layers.txt; else cat test-output/fast-layers.txt; fi; \
	  [ "$$e2e" = 0 ] && [ "$$fast" = 0 ]

venv: $(STAMP)

$(STAMP): requirements.txt requirements-dev.txt
	@$(PY) -c 'import sys; sys.exit(sys.version_info[:2] != (3, 13))' 2>/dev/null || \
	  { python=$$(tools/find_python.sh '$(PYTHON)') && echo "Building $(VENV) with $$python" && $$python -m venv --clear $(VENV); }
	$(PY) -m pip install --quiet --disable-pip-version-check --upgrade pip
	$(PY) -m pip install --quiet --disable-pip-version-check -r requirements-dev.txt
	@rm -f $(VENV)/.installed-*
	@touch $@

browser: $(CHROMIUM) $(NODE_STAMP) ## Headless Chromium and axe-core for the browser tests

# checkov (tests/infra/test_checkov.py) pins its own boto3: it gets a virtualenv of its own.
CHECKOV_VENV := .venv-checkov
CHECKOV_STAMP := $(CHECKOV_VENV)/.installed-$(shell cat requirements-checkov.txt | cksum | cut -d' ' -f1)

checkov: $(CHECKOV_STAMP) ## checkov, in .venv-checkov, for the packaged template's check

$(CHECKOV_STAMP): requirements-checkov.txt
	@python=$$(tools/find_python.sh '$(PYTHON)') && $$python -m venv --clear $(CHECKOV_VENV)
	$(CHECKOV_VENV)/bin/python -m pip install --quiet --disable-pip-version-check -r requirements-checkov.txt
	@touch $@

# GNU gettext's msgfmt checks the catalogues as translators' tools read them (tests/unit/test_catalogues.py).
$(MSGFMT):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq gettext

$(CHROMIUM):
	$(SUDO) apt-get update -qq
	$(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium

$(NODE_STAMP): package.json package-lock.json
	@command -v npm >/dev/null || { $(SUDO) apt-get update -qq && $(SUDO) env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq npm; }
	npm ci --no-audit --no-fund --loglevel=error
	@touch $@

screenshots: $(STAMP) browser ## Rewrite the README's screenshots in docs/screenshots (the browser tests that take them)
	UPDATE_SCREENSHOTS=1 $(PY) -m pytest tests/e2e -k screenshot

i18n: $(STAMP) ## Extract the words patients read, update each language's .po and compile the .mo (Babel)
	$(PY) -m tools.i18n

openapi: $(STAMP) ## Regenerate docs/openapi.json from the routes and models
	$(PY) -m tools.openapi

bench: $(STAMP) ## Cold start vs a naive handler, warm latency, AWS calls per request, package size
	$(PY) -m bench.run

# Staff accounts for the staff inbox (docs/staff.md): the local stack, or with AWS=1 the deployed STAGE.
.PHONY: staff-add staff-list staff-disable
staff-add: $(STAMP) ## Add or update a staff account: EMAIL=... NAME="Their Name" ROLE=staff|admin [DIGEST=off|on]
	@test -n "$(EMAIL)" -a -n "$(NAME)" || { echo 'make staff-add needs EMAIL=... NAME="Their Name" (and ROLE=staff or ROLE=admin).' >&2; exit 2; }
	@$(PY) -m tools.staff_accounts --stage $(STAGE) $(if $(AWS),--aws) add --email '$(subst ','\'',$(EMAIL))' --name '$(subst ','\'',$(NAME))' --role '$(or $(ROLE),staff)' $(if $(DIGEST),--digest '$(subst ','\'',$(DIGEST))')

staff-list: $(STAMP) ## List staff accounts: e-mail, name, role, active, morning digest
	@$(PY) -m tools.staff_accounts --stage $(STAGE) $(if $(AWS),--aws) list

staff-disable: $(STAMP) ## Disable a staff account (signed out at once): EMAIL=...
	@test -n "$(EMAIL)" || { echo 'make staff-disable needs EMAIL=... (see make staff-list).' >&2; exit 2; }
	@$(PY) -m tools.staff_accounts --stage $(STAGE) $(if $(AWS),--aws) disable --email '$(subst ','\'',$(EMAIL))'

# The morning digest (docs/response-times.md): now, whatever the hour, to each active account without today's.
.PHONY: digest
digest: $(STAMP) ## Send the morning digest now: the local stack, or AWS=1 STAGE=... (the deployed stage's digest function's settings)
	@$(PY) -m tools.digest --stage $(STAGE) $(if $(AWS),--aws --stack '$(STACK)')

# Staff tokens (docs/staff.md): against the stack `make run` started, or with AWS=1 the deployed STAGE.
.PHONY: staff-token staff-tokens revoke-token
staff-token: $(STAMP) ## Make a staff token of an account: EMAIL=... (or, of no account, NAME="..." ROLE=staff|admin); printed once, on the last line
	@test -n "$(EMAIL)$(NAME)" || { echo 'make staff-token needs EMAIL=... (a staff account, see make staff-list), or NAME="Their Name" ROLE=staff|admin for a token of no account.' >&2; exit 2; }
	@$(PY) -m tools.staff_tokens --stage $(STAGE) $(if $(AWS),--aws) create \
	  $(if $(EMAIL),--email '$(subst ','\'',$(EMAIL))',--name '$(subst ','\'',$(NAME))' --role '$(or $(ROLE),staff)')

staff-tokens: $(STAMP) ## List staff tokens: id, name, role, made, last used, revoked
	@$(PY) -m tools.staff_tokens --stage $(STAGE) $(if $(AWS),--aws) list

revoke-token: $(STAMP) ## Revoke a staff token at once: ID=... (from make staff-tokens)
	@test -n "$(ID)" || { echo 'make revoke-token needs ID=... (see make staff-tokens).' >&2; exit 2; }
	@$(PY) -m tools.staff_tokens --stage $(STAGE) $(if $(AWS),--aws) revoke '$(ID)'

# Webhook endpoints (docs/staff.md#webhooks): the local stack, or with AWS=1 the deployed STAGE (its digest function's
# settings, as make digest reads them). Rotating, enabling and deleting are on the inbox's Webhooks page.
.PHONY: webhook-add webhook-list webhook-disable
webhook-add: $(STAMP) ## Add a webhook endpoint: URL=https://... [EVENTS=visit.booked,visit.cancelled] (default: every event); its secret printed once, on the last line
	@test -n "$(URL)" || { echo 'make webhook-add needs URL=https://... (and EVENTS=type,type,... for fewer than every event).' >&2; exit 2; }
	@$(PY) -m tools.webhooks --stage $(STAGE) $(if $(AWS),--aws --stack '$(STACK)') add --url '$(subst ','\'',$(URL))' $(if $(EVENTS),--events '$(subst ','\'',$(EVENTS))')

webhook-list: $(STAMP) ## List webhook endpoints: id, URL, events, active, added
	@$(PY) -m tools.webhooks --stage $(STAGE) $(if $(AWS),--aws --stack '$(STACK)') list

webhook-disable: $(STAMP) ## Stop deliveries to a webhook endpoint: ID=... (from make webhook-list)
	@test -n "$(ID)" || { echo 'make webhook-disable needs ID=... (see make webhook-list).' >&2; exit 2; }
	@$(PY) -m tools.webhooks --stage $(STAGE) $(if $(AWS),--aws --stack '$(STACK)') disable '$(subst ','\'',$(ID))'

package: $(STAMP) ## Build the stack for STAGE (template + zip in PACKAGE_DIR) and check it offline
	$(PY) -m tools.package --stage $(STAGE) --out $(PACKAGE_DIR)

deploy: package ## Deploy STAGE to AWS: needs the AWS CLI, credentials and ARTIFACT_BUCKET (an S3 bucket)
	@test -n "$(ARTIFACT_BUCKET)" || { echo "make deploy needs ARTIFACT_BUCKET=<an S3 bucket for the code>; see docs/deploy.md." >&2; exit 2; }
	aws cloudformation package --use-json --template-file $(PACKAGE_DIR)/sam.json \
	  --s3-bucket $(ARTIFACT_BUCKET) --s3-prefix $(STACK) --output-template-file $(PACKAGE_DIR)/packaged.json
	aws cloudformation deploy --template-file $(PACKAGE_DIR)/packaged.json --stack-name $(STACK) \
	  --s3-bucket $(ARTIFACT_BUCKET) --s3-prefix $(STACK) --capabilities CAPABILITY_IAM CAPABILITY_AUTO_EXPAND \
	  --no-fail-on-empty-changeset --tags app=appointments stage=$(STAGE) \
	  $(if $(PARAMETERS),--parameter-overrides $(PARAMETERS))

clean:
	rm -rf $(VENV) $(CHECKOV_VENV) node_modules build .pytest_cache .hypothesis test-output
