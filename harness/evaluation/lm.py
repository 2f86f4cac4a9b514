"""``StatbenchLM``: the lm-eval model that puts the generation cache and a deterministic batch plan in
front of any backend.

- Sample ``i`` of a problem is the i-th copy lm-eval makes of its request (``repeats``); its cache key is
  (model fingerprint, prompt, generation params, i, seed).
- The batch plan is a pure function of the request set: requests grouped by (task, params), ordered by
  prompt length then document, cut into ``batch_size`` chunks. A rerun after a kill sees the same plan;
  finished batches come from the cache, and unfinished ones are regenerated with the same composition
  and the same per-batch seed, so their samples equal those of an uninterrupted run.
- Before the first generation every prompt is checked against the context window (vLLM would silently
  cut or empty an over-long prompt; anchors-eval.md §0.3).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass

import lm_eval.models  # noqa: F401  - fill lm-eval's model registry first (spike G6)
from lm_eval.api.model import LM

from harness.core.errors import SpecError
from harness.core.hashing import seed_of
from harness.evaluation.backends import Backend, GenParams
from harness.evaluation.cache import Generation, GenerationCache, generation_key


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
        progress: Callable[[dict[str, int]], Callable[[str, int], None]] | None = None,
    ) -> None:
        super().__init__()
        self.backend, self.cache, self.fp = backend, cache, fingerprint
        self.seed, self.batch_size, self.model_name = seed, batch_size, model_name
        self._template = chat_template
        self._progress = progress
        self.records: dict[tuple[str, int, int], tuple[str, Generation]] = {}
        self.generated = 0
        self.reused = 0

    # lm-eval chat-template hooks ------------------------------------------------------------------
    @property
    def tokenizer_name(self) -> str:
        return self.model_name

    def chat_template(self, chat_template: bool | str = False) -> str | None:
        return self._template or ""

    def apply_chat_template(self, chat_history: list[dict[str, str]], add_generation_prompt: bool = True) -> str:
        return self.backend.apply_chat_template(chat_history)

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
            key = generation_key(self.fp, prompt, params.as_dict(), idx, self.seed)
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
                "scored silently):\n  " + "\n  ".join(lines) + "\nLower --max-gen-toks or use a longer-context model."
            )

    def _plan(self, items: list[_Item]) -> list[list[int]]:
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
        plan = self._plan(items)
        totals = Counter(items[i].task for batch in plan for i in batch)
        advance = self._progress(dict(totals)) if self._progress else None
        for batch in plan:
            todo = [i for i in batch if items[i].key not in done]
            if todo:
                todo_items = [items[i] for i in todo]
                gens = self.backend.generate(
                    [it.prompt for it in todo_items], todo_items[0].params,
                    seeds=[seed_of(it.key) for it in todo_items],
                    batch_seed=seed_of(str(self.seed), *sorted(it.key for it in todo_items)),
                )
                self.cache.put_many((it.key, self.fp, it.task, it.sample_idx, g) for it, g in zip(todo_items, gens, strict=True))
                done.update((it.key, g) for it, g in zip(todo_items, gens, strict=True))
                self.generated += len(todo)
            self.reused += len(batch) - len(todo)
            if advance:
                advance(items[batch[0]].task, len(batch))
        for it in items:
            self.records[(it.task, it.doc_id, it.sample_idx)] = (it.prompt, done[it.key])
        return [done[it.key].text for it in items]
