"""``StatbenchLM``: the lm-eval model that puts the generation cache and a streaming scheduler in front of
any backend.

- Sample ``i`` of a problem is the i-th copy lm-eval makes of its request (``repeats``); its cache key is
  (model fingerprint, the backend's identity, prompt, generation params, i, seed) and its own seed is
  derived from that key, so a sample never depends on arrival order, batch or replica.
- lm-eval calls ``generate_until`` once with every request of every task. The scheduler hands the whole
  pending set (cache misses) to ``backend.run``, which keeps the engine saturated and reports each
  request as it finishes; completions are committed in group commits (every ``commit_every``
  completions or ``commit_seconds``, whichever first), so a SIGKILL loses at most one window and a
  rerun generates only what is missing: killed-and-resumed equals uninterrupted, sample for sample.
- Static-batch backends (hf) get a batch plan that is a pure function of the request set (grouped by
  task and params, longest prompt first), and each batch is committed as one unit, so a resumed run
  regenerates whole batches of the same composition.
- A request that fails (after the backend's retries) does not stop the others; when the rest are done
  and committed, ``GenerationFailed`` names the failures per task (the runner then writes no record).
- Before the first generation every prompt is checked against the context window (vLLM would silently
  cut or empty an over-long prompt).
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass

import lm_eval.models  # noqa: F401  - fill lm-eval's model registry first (its registry is filled lazily, only when empty)
from lm_eval.api.model import LM

from harness.core.errors import RunFailure, SpecError
from harness.core.hashing import seed_of
from harness.evaluation.backends import Backend, GenParams, Request
from harness.evaluation.cache import Generation, GenerationCache, generation_key
from harness.evaluation.progress import GenStats, ProgressFactory


class GenerationFailed(RunFailure):
    """Some requests failed after retries; everything else was generated and committed."""

    def __init__(self, failures: dict[str, list[str]], total: int) -> None:
        self.failures = failures
        n = sum(len(v) for v in failures.values())
        per_task = ", ".join(f"{t}: {len(v)}" for t, v in failures.items())
        first = next(iter(failures.values()))[0]
        super().__init__(
            f"{n} of {total} request(s) failed after retries ({per_task}); the other {total - n} are "
            f"cached and no run record was written; rerun to retry only the missing ones. "
            f"First error: {first}"
        )


class Committer:
    """Group commits of finished generations: every ``every_n`` rows or ``every_s`` seconds (a background
    thread flushes a quiet buffer), and at ``close``. Thread-safe."""

    def __init__(self, cache: GenerationCache, every_n: int = 64, every_s: float = 1.0) -> None:
        self.cache, self.every_n, self.every_s = cache, every_n, every_s
        self.rows: list[tuple[str, str, str, int, Generation]] = []
        self.oldest = 0.0
        self.lock = threading.Lock()
        self.error: BaseException | None = None
        self.commits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._tick, name="statbench-commit", daemon=True)
        self._thread.start()

    def _flush(self) -> None:  # under self.lock
        if self.rows:
            rows, self.rows = self.rows, []
            self.cache.put_many(rows)
            self.commits += 1

    def _tick(self) -> None:
        while not self._stop.wait(min(0.25, self.every_s)):
            with self.lock:
                if self.rows and time.monotonic() - self.oldest >= self.every_s:
                    try:
                        self._flush()
                    except BaseException as e:  # noqa: BLE001 - re-raised by the next add/close
                        self.error = e

    def add(self, rows: list[tuple[str, str, str, int, Generation]]) -> None:
        """Queue rows (committed together, in one transaction or a later one)."""
        with self.lock:
            if self.error:
                raise self.error
            if not self.rows:
                self.oldest = time.monotonic()
            self.rows += rows
            if len(self.rows) >= self.every_n:
                self._flush()

    def close(self) -> None:
        """Stop the timer and commit what is left."""
        self._stop.set()
        self._thread.join()
        with self.lock:
            self._flush()
        if self.error:
            raise self.error


class ContextOverflowError(SpecError):
    """A prompt plus its generation budget does not fit the model's context."""


@dataclass
class _Item:
    task: str
    doc_id: int
    sample_idx: int
    prompt: str
    params: GenParams
    key: str


class StatbenchLM(LM):
    """The lm-eval ``LM`` statbench registers: generates through a backend and the generation cache."""

    def __init__(
        self,
        backend: Backend,
        cache: GenerationCache,
        fingerprint: str,
        seed: int,
        batch_size: int,
        model_name: str,
        chat_template: str | None = None,
        progress: ProgressFactory | None = None,
        commit_every: int = 64,
        commit_seconds: float = 1.0,
        chat_template_kwargs: dict | None = None,
        custom_template: str | None = None,
    ) -> None:
        super().__init__()
        self.backend, self.cache, self.fp = backend, cache, fingerprint
        self.seed, self.batch_size, self.model_name = seed, batch_size, model_name
        self.producer = backend.identity()
        self._template = chat_template
        self._template_kwargs = dict(
            chat_template_kwargs or {}
        )  # e.g. enable_thinking (recorded in the spec)
        self._custom_template = custom_template  # --chat-template @FILE instead of the tokenizer's
        self._progress = progress
        self.commit_every, self.commit_seconds = commit_every, commit_seconds
        self.records: dict[tuple[str, int, int], tuple[str, Generation]] = {}
        self.generated = 0
        self.reused = 0
        self.stats: GenStats | None = None

    # lm-eval chat-template hooks ------------------------------------------------------------------
    @property
    def tokenizer_name(self) -> str:
        return self.model_name

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return self._template or ""

    def apply_chat_template(
        self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True
    ) -> str:
        if not self._template_kwargs and self._custom_template is None:
            return self.backend.apply_chat_template(chat_history)
        return self.backend.apply_chat_template(
            chat_history, chat_template=self._custom_template, **self._template_kwargs
        )

    def loglikelihood(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("statbench evaluates generative tasks only")

    def loglikelihood_rolling(self, requests, disable_tqdm: bool = False):
        raise NotImplementedError("statbench evaluates generative tasks only")

    # generation -----------------------------------------------------------------------------------
    def _items(self, requests) -> list[_Item]:
        copies: Counter[int] = Counter()
        items = []
        for req in requests:
            prompt, gen = req.args
            idx = copies[id(req)]  # lm-eval repeats a request by listing the same Instance k times
            copies[id(req)] += 1
            params = GenParams.from_lm_eval(gen)
            key = generation_key(self.fp, prompt, params.as_dict(), idx, self.seed, self.producer)
            items.append(_Item(req.task_name, req.doc_id, idx, prompt, params, key))
        return items

    def _check_context(self, items: list[_Item]) -> None:
        limit = self.backend.context_length()
        prompts = list(dict.fromkeys(i.prompt for i in items))
        counts = self.backend.count_tokens(prompts) if limit else None
        if not counts:
            return
        n_tok = dict(zip(prompts, counts, strict=True))
        worst: dict[str, tuple[int, _Item]] = {}
        n_bad: Counter[str] = Counter()
        for it in items:
            need = n_tok[it.prompt] + it.params.max_new_tokens
            if need > limit:
                n_bad[it.task] += 1
                if it.task not in worst or need > worst[it.task][0]:
                    worst[it.task] = (need, it)
        if worst:
            lines = [
                f"{task}: {n_bad[task]} request(s) do not fit; worst is doc {it.doc_id}: {n_tok[it.prompt]} prompt tokens + "
                f"{it.params.max_new_tokens} max new tokens = {need} > context {limit}"
                for task, (need, it) in worst.items()
            ]
            raise ContextOverflowError(
                "prompt + generation budget exceed the model's context (refusing: a truncated prompt would be "
                "scored silently):\n  "
                + "\n  ".join(lines)
                + "\nLower --max-gen-toks or use a longer-context model."
            )

    def _order(self, items: list[_Item]) -> list[list[int]]:
        """Unique requests in a deterministic plan: grouped by (task, params), longest prompt first, then by
        document and sample; cut into ``batch_size`` batches (only static-batch backends use the cuts)."""
        groups: dict[tuple, list[int]] = {}
        seen: set[str] = set()
        for i, it in enumerate(items):
            if it.key in seen:
                continue
            seen.add(it.key)
            groups.setdefault((it.task, it.params), []).append(i)
        plan = []
        for idxs in groups.values():
            idxs.sort(key=lambda i: (-len(items[i].prompt), items[i].doc_id, items[i].sample_idx))
            plan += [idxs[j : j + self.batch_size] for j in range(0, len(idxs), self.batch_size)]
        return plan

    def generate_until(self, requests, disable_tqdm: bool = False) -> list[str]:
        items = self._items(requests)
        self._check_context(items)
        done = self.cache.get_many(it.key for it in items)
        plan = self._order(items)
        unique = [i for batch in plan for i in batch]
        totals = Counter(items[i].task for i in unique)
        stats = self.stats = GenStats(total=len(unique))
        advance = self._progress(dict(totals)) if self._progress else None
        cached = Counter(items[i].task for i in unique if items[i].key in done)
        stats.cached = sum(cached.values())
        if advance:
            for task, n in cached.items():
                advance(task, n, stats)
        static = bool(getattr(self.backend, "static_batches", False))
        pending: list[Request] = []
        by_key: dict[str, _Item] = {}
        for b, batch in enumerate(plan):
            for i in batch:
                it = items[i]
                if it.key not in done:
                    by_key[it.key] = it
                    pending.append(
                        Request(it.key, it.prompt, it.params, seed_of(it.key), it.task, b if static else 0)
                    )
        failures: dict[str, list[str]] = {}
        lock = threading.Lock()
        committer = Committer(self.cache, self.commit_every, self.commit_seconds)
        lm = self

        class Sink:
            def done_many(self, pairs: list[tuple[Request, Generation]]) -> None:
                committer.add([(r.key, lm.fp, r.task, by_key[r.key].sample_idx, g) for r, g in pairs])
                with lock:
                    for r, g in pairs:
                        done[r.key] = g
                        stats.done += 1
                        stats.tokens += g.tokens
                    if advance:
                        for r, _ in pairs:
                            advance(r.task, 1, stats)

            def done(self, req: Request, gen: Generation) -> None:
                self.done_many([(req, gen)])

            def failed(self, req: Request, error: str) -> None:
                with lock:
                    failures.setdefault(req.task, []).append(error)
                    stats.failed += 1
                    if advance:
                        advance(req.task, 1, stats)

        try:
            self.backend.run(pending, Sink(), self.batch_size)
        finally:
            committer.close()
        self.generated += stats.done
        self.reused += stats.cached
        if failures:
            raise GenerationFailed(failures, len(unique))
        missing = [k for k in by_key if k not in done]
        if missing:
            raise RuntimeError(
                f"{self.backend.name} backend returned no result for {len(missing)} request(s)"
            )
        for it in items:
            self.records[(it.task, it.doc_id, it.sample_idx)] = (it.prompt, done[it.key])
        return [done[it.key].text for it in items]
