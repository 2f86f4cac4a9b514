"""``statbench leaderboard BOARD``: regenerate a board from run records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail
from harness.cli.options import DEFAULT_RUNS, RunsDir


def leaderboard(
    board: Annotated[
        str, typer.Argument(help="Board name under --boards-dir, or a board folder / board.yaml path.")
    ],
    runs_dir: RunsDir = DEFAULT_RUNS,
    boards_dir: Annotated[Path, typer.Option(help="Where named boards live.")] = Path("leaderboards"),
) -> None:
    """Regenerate a board's README.md, table.csv and index.html from the run index (byte-stable)."""
    from harness.core.errors import SpecError
    from harness.reporting.render import generate, main_table

    path = Path(board) if (Path(board).exists() or "/" in board) else boards_dir / board
    try:
        out = generate(path, runs_dir)
    except SpecError as e:
        fail(e)
    b = out["board"]
    filled = sum(c.value is not None for c in b.cells.values())
    print(main_table(b))
    err.print(
        f"{b.spec.title}: {filled}/{len(b.cells)} cells from {len({r for c in b.cells.values() for r in c.runs})} run(s)"
        f"{', ' + str(len(b.reported)) + ' reported rows' if b.reported else ''}"
    )
    for key in ("markdown", "csv", "html"):
        err.print(f"  wrote {out[key]}")
