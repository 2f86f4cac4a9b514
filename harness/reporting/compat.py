"""Whether two run records can be compared or pooled: the one comparison the gate and the boards share.

Two runs are comparable on a set of tasks when they were made under the same protocol, with the same
per-task generation config (``generation_kwargs``: max new tokens, temperature, top_p, stop strings), the
same task data (sha256) and the same checker version. ``statbench regress`` refuses a pair that differs
(unless ``--allow-mismatch``); a leaderboard refuses to pool such runs into one cell.

A rescore record of a run carries no generation config of its own: :func:`effective_spec` reads it (and the
task data hashes) from the source run, while the checker version stays the rescore's.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from harness.core.errors import StatbenchError
from harness.records.models import ResolvedSpec
from harness.records.store import read_run

FIELDS = ("protocol", "generation config", "task data hashes", "checker version")


def effective_spec(spec: ResolvedSpec) -> ResolvedSpec:
    """``spec``, or for a rescore of a run the source run's generation config and data hashes under it."""
    if spec.kind != "rescore" or spec.source_kind != "run" or not spec.source:
        return spec
    try:
        src = read_run(Path(spec.source)).spec
    except (StatbenchError, OSError):
        return spec  # the source is gone: its settings are unknown (None), which compares as a difference
    return spec.model_copy(
        update={"tasks": src.tasks, "data_sha256": src.data_sha256, "chat_template": src.chat_template}
    )


def identity(spec: ResolvedSpec, generation: Any) -> dict[str, Any]:
    """The fields that must agree, for a run whose (first differing) task generation config is ``generation``."""
    return {
        "protocol": spec.protocol,
        "generation config": generation,
        "task data hashes": spec.data_sha256,
        "checker version": spec.versions.get("checker"),
    }


def _dict_diff(va: dict, vb: dict) -> str:
    keys = sorted(k for k in set(va) | set(vb) if va.get(k) != vb.get(k))
    return ", ".join(f"{k} {va.get(k)!r} vs {vb.get(k)!r}" for k in keys)


def differences(
    a: ResolvedSpec, b: ResolvedSpec, tasks: list[str], names: tuple[str, str] = ("baseline", "candidate")
) -> list[str]:
    """Human-readable list of the fields that differ between runs ``a`` and ``b`` on ``tasks``.

    Protocol, task data and checker are run-wide; of the per-task generation configs, the first task whose
    config differs is named with the keys that differ (``generation config (gsm8k): max_gen_toks 24 vs
    16``). Task data hashes are compared on the datasets both runs have.
    """
    a, b = effective_spec(a), effective_spec(b)
    gens = ((t, a.generation(t), b.generation(t)) for t in tasks)
    task, ga, gb = next(((t, x, y) for t, x, y in gens if x != y), (None, None, None))
    ia, ib = identity(a, ga), identity(b, gb)
    na, nb = names
    diffs = []
    for field in FIELDS:
        va, vb = ia[field], ib[field]
        if field == "task data hashes" and isinstance(va, dict) and isinstance(vb, dict):
            changed = [k for k in sorted(set(va) & set(vb)) if va[k] != vb[k]]
            if changed:
                diffs.append(f"{', '.join(tasks)}: {field} differ ({', '.join(changed)})")
        elif field == "generation config" and isinstance(va, dict) and isinstance(vb, dict):
            if va != vb:
                diffs.append(f"{field} ({task}): {_dict_diff(va, vb)} ({na} vs {nb})")
        elif va != vb:
            diffs.append(
                f"{field}{f' ({task})' if task and field == 'generation config' else ''}: {na} {va!r} vs {nb} {vb!r}"
            )
    return diffs
