"""Options shared by several verbs, declared once (``Annotated`` aliases)."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

RunsDir = Annotated[Path, typer.Option("--runs-dir", help="Where run records, their index and the generation cache live.")]
Workers = Annotated[int | None, typer.Option(help="Grader worker processes (default: min(4, CPUs)).")]
Image = Annotated[str, typer.Option(help="docker executor: the image to run in.")]
EnvAllow = Annotated[list[str] | None, typer.Option(help="docker executor: an environment variable to pass through (repeatable).")]
RayAddress = Annotated[str | None, typer.Option(help="ray executor: cluster address (default: start a local one).")]
DEFAULT_RUNS = Path("runs")
