"""``statbench leaderboard BOARD``: regenerate a board from run records."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail
from harness.cli.options import DEFAULT_RUNS, RunsDir

EPILOG = (
    "Exit codes: 0 written; 2 refused: an unknown board, a bad board.yaml, runs of one cell made with "
    "different settings, or a regeneration that would empty filled cells (without --allow-shrink); "
    "3 internal error; 130 interrupted. See docs/exit-codes.md."
)


def leaderboard(
    board: Annotated[
        str, typer.Argument(help="Board name under --boards-dir, or a board folder / board.yaml path.")
    ],
    runs_dir: RunsDir = DEFAULT_RUNS,
    boards_dir: Annotated[Path, typer.Option(help="Where named boards live.")] = Path("leaderboards"),
    allow_shrink: Annotated[
        bool,
        typer.Option(
            "--allow-shrink",
            help="Write the board even if cells it has filled would become empty (refused by default).",
        ),
    ] = False,
) -> None:
    """Regenerate a board's README.md, table.csv and index.html from the run index (byte-stable)."""
    from harness.core.errors import SpecError
    from harness.reporting.board_spec import resolve_board
    from harness.reporting.render import generate, main_table

    try:
        out = generate(resolve_board(board, boards_dir), runs_dir, allow_shrink=allow_shrink)
    except SpecError as e:
        fail(e)
    b = out["board"]
    filled = sum(c.value is not None for c in b.cells.values())
    print(main_table(b))
    runs = len({r for c in b.cells.values() for r in c.runs})
    err.print(
        f"{b.spec.title}: {filled}/{len(b.cells)} cells from {runs} run(s) in {runs_dir}"
        f"{'' if Path(runs_dir).is_dir() else ' (no such folder)'}"
        f"{', ' + str(len(b.reported)) + ' reported rows' if b.reported else ''}",
        markup=False,
        highlight=False,
    )
    for key in ("markdown", "csv", "html"):
        err.print(f"  wrote {out[key]}", markup=False, highlight=False)
