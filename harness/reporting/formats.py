"""How a board's numbers are written: percentages, signed points, markdown-safe text, and table.csv."""

from __future__ import annotations

import csv
import io
from html import escape
from typing import Any

from harness.reporting.board import Board


def _points(x: float) -> float:
    return round(100 * x, 1) + 0.0  # + 0.0: -0.0 becomes 0.0, so no table shows "-0.0"


def pct(x: float | None) -> str:
    """A fraction as a percentage with one decimal (an em dash for None); never ``-0.0``."""
    return "—" if x is None else f"{_points(x):.1f}"


def signed_pct(x: float | None) -> str:
    """A difference in points with its sign (``+2.0``, ``-1.5``); a rounded zero is ``0.0``, never ``-0.0``."""
    if x is None:
        return "—"
    v = _points(x)
    return "0.0" if v == 0 else f"{v:+.1f}"


def md(text: str) -> str:
    """User text (titles, labels, group names) made safe for one markdown table cell or heading line.

    HTML is escaped (GitHub renders inline HTML), ``|`` and ``\\`` are backslash-escaped and line
    breaks become spaces, so no label can add, drop or split a table cell.
    """
    out = escape(" ".join(str(text).splitlines()), quote=False)
    return out.replace("\\", "\\\\").replace("|", "\\|")


def fmt(x: float | None) -> str:
    """A fraction with six decimals for table.csv (blank for None)."""
    return "" if x is None else f"{x:.6f}"


def _or_blank(x: Any) -> str:
    return "" if x is None else str(x)


def to_csv(board: Board) -> str:
    """The board as table.csv: one line per cell (and per reported value), with CIs, deltas and runs."""
    out = io.StringIO()
    w = csv.writer(out, lineterminator="\n")
    w.writerow(
        [
            "group",
            "row",
            "label",
            "task",
            "value",
            "ci_low",
            "ci_high",
            "delta_vs_base",
            "delta_ci_low",
            "delta_ci_high",
            "n",
            "k",
            "seeds",
            "seed_values",
            "seed_sd",
            "seed_min",
            "seed_max",
            "max_new_tokens",
            "temperature",
            "runs",
            "status",
        ]
    )
    for g in board.spec.groups:
        for r in g.rows:
            for t in board.spec.columns:
                c = board.cells[(r.id, t)]
                spread = c.seed_spread
                w.writerow(
                    [
                        g.name,
                        r.id,
                        r.label,
                        t,
                        fmt(c.value),
                        fmt(c.ci and c.ci[0]),
                        fmt(c.ci and c.ci[1]),
                        fmt(c.delta),
                        fmt(c.delta_ci and c.delta_ci[0]),
                        fmt(c.delta_ci and c.delta_ci[1]),
                        c.n,
                        c.k,
                        c.seeds,
                        ";".join(fmt(v) for v in c.seed_values),
                        *(
                            ("", "", "")
                            if spread is None
                            else (fmt(spread[2]), fmt(spread[0]), fmt(spread[1]))
                        ),
                        "" if c.settings is None else _or_blank(c.settings["max_new_tokens"]),
                        "" if c.settings is None else _or_blank(c.settings["temperature"]),
                        ";".join(c.runs),
                        "ok" if c.value is not None else "no run",
                    ]
                )
    for rep in board.reported:
        for t in board.spec.columns:
            v = rep["values"].get(t)
            w.writerow(
                [
                    f"reported: {rep['stage']}",
                    "",
                    rep["method"],
                    t,
                    fmt(v),
                    *[""] * 15,
                    "reported" if v is not None else "not reported",
                ]
            )
    return out.getvalue()
