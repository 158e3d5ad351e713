# Chinwag: `make run` serves on http://127.0.0.1:8000 with the runtime dependencies only;
# `make test` adds the test extras, runs the lint gates (ruff, mypy --strict), then the suite
# (with Debian's Chromium for the browser tests and nginx for the docs/deploy.md recipe).
PYTHON ?= python3
VENV := .venv
PY := $(VENV)/bin/python
# Two stamps, one per install: the runtime one (`make run`) and the test one (`make test`).
# Installing the test extras installs the runtime too, so it refreshes both stamps; either is
# redone when pyproject.toml is newer than it.
RUN_STAMP := $(VENV)/.installed-run
TEST_STAMP := $(VENV)/.installed-test

.PHONY: run test install lint bench clean

$(PY):
	$(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip

$(RUN_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e .
	touch $@

$(TEST_STAMP): pyproject.toml | $(PY)
	$(PY) -m pip install --quiet -e '.[test]'
	touch $@ $(RUN_STAMP)

# A development install: the runtime and the test extras (what `make test` and `make lint` use).
install: $(TEST_STAMP)

run: $(RUN_STAMP)
	$(VENV)/bin/chinwag serve

test: lint
	test -x /usr/bin/chromium || (apt-get update -q && apt-get install -y -q chromium)
	test -x /usr/sbin/nginx || (apt-get update -q && apt-get install -y -q nginx)
	$(PY) -m pytest

lint: $(TEST_STAMP)
	$(VENV)/bin/ruff check src tests bench
	$(VENV)/bin/mypy

bench: $(TEST_STAMP)
	$(PY) -m bench.run_all

clean:
	rm -rf $(VENV) var .pytest_cache
