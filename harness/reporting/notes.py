"""What README.md and index.html both say: row labels, column headers (n, k and their marks), the settings
the runs used (the footnote), and the order of the skills in the skill views."""

from __future__ import annotations

from typing import Any

from harness.core.protocols import get_protocol
from harness.core.tasks import short_name
from harness.reporting.board import Board
from harness.reporting.formats import md

TOP_SKILLS = 15


def display_labels(board: Board) -> dict[str, str]:
    """Row id -> label, qualified by its group where two rows share a label (STAT-Sel in SFT and SFT+GRPO)."""
    rows = [(g.name, r) for g in board.spec.groups for r in g.rows]
    counts: dict[str, int] = {}
    for _, r in rows:
        counts[r.label] = counts.get(r.label, 0) + 1
    return {r.id: r.label if counts[r.label] == 1 else f"{r.label} ({g})" for g, r in rows}


# ------------------------------------------------------------------------------------------ settings
def _settings_text(board: Board, task: str, s: dict[str, Any] | None) -> str:
    """What a column's runs used, in words; the protocol's default is named where the runs overrode it."""
    if s is None:
        return "no runs"
    if s["max_new_tokens"] is None:
        return "generation settings not recorded (a rescore of lm-eval output)"
    default = get_protocol(board.spec.protocol).sampling(board.spec.family(task))
    toks = f"at most {s['max_new_tokens']} new tokens"
    if s["max_new_tokens"] != default.max_gen_toks:
        toks += f" (the protocol's default is {default.max_gen_toks})"
    top_p = f", top_p={s['top_p']:g}" if s["top_p"] not in (None, 1, 1.0) else ""
    chat = f", chat template {s['chat_template']}" if s["chat_template"] else ""
    return f"k={s['k']}, T={float(s['temperature']):g}{top_p}, {toks}{chat}"


def column_settings(board: Board, task: str) -> list[tuple[str, list[str]]]:
    """The distinct settings of a column's cells (as text) with the rows that used each, in row order."""
    names = display_labels(board)
    out: dict[str, list[str]] = {}
    for g in board.spec.groups:
        for r in g.rows:
            c = board.cells[(r.id, task)]
            if c.value is not None:
                out.setdefault(_settings_text(board, task, c.settings), []).append(names[r.id])
    return list(out.items())


def settings_note(board: Board, fmt=md) -> str:
    """One sentence per group of columns: the settings their runs actually used (from the run records)."""
    spec = board.spec
    proto = get_protocol(spec.protocol)
    by_text: dict[str, list[str]] = {}
    mixed = []
    for t in spec.columns:
        head = f"{short_name(t)} {proto.sampling(spec.family(t)).label}"
        groups = column_settings(board, t)
        if len(groups) <= 1:
            by_text.setdefault(groups[0][0] if groups else "no runs", []).append(head)
        else:
            mixed.append(
                f"{head} †: "
                + "; ".join(f"{text} ({', '.join(fmt(x) for x in rows)})" for text, rows in groups)
            )
    parts = [f"{', '.join(heads)}: {text}" for text, heads in by_text.items()] + mixed
    return "; ".join(parts)


def _mixed_settings(board: Board, task: str) -> bool:
    return len(column_settings(board, task)) > 1


def header_nk(board: Board, task: str) -> str:
    """A column's header: the task's short name with n and k, marked * (n or k differ between rows) and †
    (rows used different settings)."""
    cs = [
        board.cells[(r.id, task)]
        for g in board.spec.groups
        for r in g.rows
        if board.cells[(r.id, task)].value is not None
    ]
    if not cs:
        return f"{short_name(task)} (no runs)"
    ns, ks = {c.n for c in cs}, {(c.k, c.seeds) for c in cs}
    k, seeds = cs[0].k, cs[0].seeds
    mark = ("*" if len(ns) > 1 or len(ks) > 1 else "") + ("†" if _mixed_settings(board, task) else "")
    return f"{short_name(task)} (n={cs[0].n}, k={k}{f'×{seeds} seeds' if seeds > 1 else ''}){mark}"


def by_base_failures(board: Board) -> list[str]:
    """The top skills, those the base row fails most first (ties keep the problem-count order)."""
    sk, base = board.skills, board.spec.base
    return sorted(
        sk["skills"][:TOP_SKILLS], key=lambda s: -(sk["failures"].get(base, {}).get(s, 0) if base else 0)
    )
