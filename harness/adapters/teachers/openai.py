"""The teacher: an OpenAI-compatible chat model (OpenAI, ``vllm serve``, ...) behind a small interface.

- API key from the environment variable the spec names; it is never logged or written.
- A persistent response cache keyed by the full request (reproducible reruns cost nothing).
- A concurrency limit; transport retries with backoff on 429/5xx/timeouts/garbage (the SDK's own and ours).
- Prompts are files (``prompts/*.txt``, written from the paper's App. C.3 descriptions); replies are parsed
  strictly (``<judge>``, ``<reason>``, ``<skill>``, ``<question>``, ``\\boxed{}``). A malformed reply is re-asked
  with a format reminder, then recorded as failed — it never crashes a stage.
- Token and cost accounting (``usage()``), written into every stage output that used the teacher.

The interface and the reply parsers are in ``base.py``.
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict
from pathlib import Path
from typing import Any

from harness.adapters.teachers.base import (
    Judgement,
    Usage,
    boxed_reply,
    parse_skills,
    prompt,
    skill_list_text,
    tag,
)
from harness.core.errors import SpecError
from harness.core.hashing import canonical_json, sha256_json


class _Cache:
    def __init__(self, path: Path):
        path.parent.mkdir(parents=True, exist_ok=True)
        self.db = sqlite3.connect(path, timeout=60, check_same_thread=False, isolation_level=None)
        self.db.execute("PRAGMA journal_mode=WAL")
        self.db.execute(
            "CREATE TABLE IF NOT EXISTS replies (key TEXT PRIMARY KEY, request TEXT, reply TEXT, usage TEXT)"
        )
        self.lock = threading.Lock()

    def get(self, key: str) -> tuple[str, dict] | None:
        with self.lock:
            row = self.db.execute("SELECT reply, usage FROM replies WHERE key=?", (key,)).fetchone()
        return (row[0], json.loads(row[1])) if row else None

    def put(self, key: str, request: dict, reply: str, usage: dict) -> None:
        with self.lock:
            self.db.execute(
                "INSERT OR REPLACE INTO replies VALUES (?,?,?,?)",
                (key, canonical_json(request), reply, json.dumps(usage)),
            )


class OpenAITeacher:
    """A teacher behind an OpenAI-compatible endpoint, with an on-disk reply cache, retries and usage accounting."""

    def __init__(self, spec, cache_path: Path):
        import openai

        key = os.environ.get(spec.api_key_env) if spec.api_key_env else "not-needed"
        if not key:
            raise SpecError(
                f"teacher.api_key_env: environment variable {spec.api_key_env} is not set "
                "(export it, or point teacher.api_key_env at the variable holding your key)"
            )
        self.spec = spec
        self.client = openai.OpenAI(
            api_key=key, base_url=spec.base_url, timeout=spec.timeout, max_retries=spec.max_retries
        )
        self.cache = _Cache(cache_path)
        self._usage = Usage()
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ transport + cache + parsing
    def _complete(self, model: str, messages: list[dict], temperature: float, seed: int) -> str | None:
        request = {
            "model": model,
            "messages": messages,
            "temperature": temperature,
            "max_tokens": self.spec.max_tokens,
            "seed": seed,
            "base_url": self.spec.base_url,
        }
        key = sha256_json(request)
        hit = self.cache.get(key)
        if hit is not None:
            with self._lock:
                self._usage.cached += 1
            return hit[0]
        delay = 1.0
        attempts = (
            2  # the SDK already retried 429/5xx/timeouts with backoff; one more try covers garbage bodies
        )
        for attempt in range(attempts):
            try:
                resp = self.client.chat.completions.create(
                    model=model,
                    messages=messages,
                    temperature=temperature,
                    max_tokens=self.spec.max_tokens,
                    seed=seed,
                )
                text = resp.choices[0].message.content or ""
                u = resp.usage
                usage = {
                    "prompt_tokens": getattr(u, "prompt_tokens", 0) or 0,
                    "completion_tokens": getattr(u, "completion_tokens", 0) or 0,
                }
                break
            except Exception as e:  # noqa: BLE001 - the SDK retried 429/5xx/timeouts already; garbage lands here
                if attempt == attempts - 1:
                    with self._lock:
                        self._usage.failed += 1
                        self._usage.by_model.setdefault("errors", {}).setdefault(type(e).__name__, 0)
                        self._usage.by_model["errors"][type(e).__name__] += 1
                    return None
                time.sleep(min(delay, 30))
                delay *= 2
        self.cache.put(key, request, text, usage)
        price_in, price_out = self.spec.price_per_1m.get(model, (0.0, 0.0))
        with self._lock:
            s = self._usage
            s.requests += 1
            s.prompt_tokens += usage["prompt_tokens"]
            s.completion_tokens += usage["completion_tokens"]
            s.cost_usd += (usage["prompt_tokens"] * price_in + usage["completion_tokens"] * price_out) / 1e6
            m = s.by_model.setdefault(model, {"requests": 0, "prompt_tokens": 0, "completion_tokens": 0})
            m["requests"] += 1
            m["prompt_tokens"] += usage["prompt_tokens"]
            m["completion_tokens"] += usage["completion_tokens"]
        return text

    def _ask(
        self, model: str, text: str, parse: Callable[[str], Any], temperature: float, seed: int = 0
    ) -> Any:
        messages = [{"role": "user", "content": text}]
        for attempt in range(self.spec.parse_retries + 1):
            reply = self._complete(model, messages, temperature, seed)
            if reply is None:
                return None
            parsed = parse(reply)
            if parsed is not None:
                return parsed
            with self._lock:
                self._usage.parse_retries += attempt < self.spec.parse_retries
            messages = [
                *messages[:1],
                {"role": "assistant", "content": reply},
                {
                    "role": "user",
                    "content": "Your reply did not follow the required output format. "
                    "Answer again, using exactly the tags requested.",
                },
            ]
        with self._lock:
            self._usage.failed += 1
        return None

    def _map(self, fn: Callable[[Any], Any], items: Sequence[Any]) -> list[Any]:
        with ThreadPoolExecutor(max_workers=self.spec.concurrency) as ex:
            return list(ex.map(fn, items))

    # ------------------------------------------------------------------ the interface
    def judge(self, items, skill_lists):
        def one(it):
            allowed = skill_lists.get(it["subject"], [])
            text = prompt(
                "missing_skills",
                skill_list=skill_list_text(allowed),
                question=it["problem"],
                solution=it["response"],
            )

            def parse(reply: str):
                verdict = (tag(reply, "judge") or "").lower()
                if not verdict or ("incorrect" not in verdict and "correct" not in verdict):
                    return None
                skills = parse_skills(tag(reply, "skill"), allowed, 5)
                if "incorrect" in verdict and not skills:
                    return None
                return Judgement("incorrect" not in verdict, tag(reply, "reason") or "", skills)

            return self._ask(self.spec.model, text, parse, self.spec.temperature)

        return self._map(one, items)

    def label_skills(self, items, skill_lists, k):
        def one(it):
            allowed = skill_lists.get(it["subject"], [])
            text = prompt("label_skills", skill_list=skill_list_text(allowed), question=it["problem"])
            return self._ask(
                self.spec.model,
                text,
                lambda r: parse_skills(tag(r, "skill"), allowed, k) or None,
                self.spec.temperature,
            )

        return self._map(one, items)

    def rewrite(self, items, n):
        from harness.scoring import default_checker

        def one(it):
            outs = []
            for i in range(n):
                text = self._ask(
                    self.spec.model,
                    prompt("rewrite", question=it["problem"], solution=it["solution"]),
                    boxed_reply,
                    self.spec.sample_temperature,
                    seed=i,
                )
                if (
                    text and default_checker().grade(text, it["answer"]).correct
                ):  # keep rewrites that keep the answer
                    outs.append(text)
            return outs

        return self._map(one, items)

    def propose(self, items, n):
        model = self.spec.proposer_model or self.spec.model

        def one(item):
            skill, refs = item
            ref_text = "\n\n".join(
                f"[QUESTION {i + 1}]\n{r['problem']}\n[SOLUTION {i + 1}]\n{r['solution']}"
                for i, r in enumerate(refs)
            )
            text = prompt("propose_question", skill=skill.replace("_", " "), references=ref_text)
            qs = [
                self._ask(model, text, lambda r: tag(r, "question"), self.spec.sample_temperature, seed=i)
                for i in range(n)
            ]
            return [q for q in qs if q]

        return self._map(one, items)

    def solve(self, questions, n):
        def one(q):
            sols = [
                self._ask(
                    self.spec.model,
                    prompt("solve", question=q),
                    boxed_reply,
                    self.spec.sample_temperature,
                    seed=i,
                )
                for i in range(n)
            ]
            return [s for s in sols if s]

        return self._map(one, questions)

    def usage(self) -> dict[str, Any]:
        with self._lock:
            return asdict(self._usage)
