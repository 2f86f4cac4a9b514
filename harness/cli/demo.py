"""``statbench demo`` and ``statbench skillworld pretrain|verify``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail


def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo's stages, runs and board go.")] = Path(
        "experiments/skillworld"
    ),
    seeds: Annotated[str, typer.Option(help="Comma-separated SFT/GRPO seeds.")] = "0,1,2",
) -> None:
    """The skill-world demo: Base vs uniform SFT vs STAT-Sel/Syn vs GRPO, through the real pipeline (CPU)."""
    from harness.core.errors import SpecError
    from harness.skillworld import base
    from harness.skillworld import demo as sw

    t0 = time.perf_counter()
    try:
        spec = sw.load_spec([int(s) for s in seeds.split(",") if s.strip()]).with_workdir(
            workdir, sw.EXAMPLE.parent
        )
        meta = base.verify(Path(spec.student.model))
        err.print(
            f"base student {spec.student.model}: recipe {meta['recipe_hash'][:12]}, weights sha256 "
            f"{meta['weights_sha256'][:12]} verified"
        )
        from harness import recipe

        pipe = recipe.plan(spec, workdir)
        summary = pipe.run(
            log=lambda m: err.print(f"    {m}"),
            progress=lambda st, i, n, status: err.print(f"[{i + 1}/{n}] {st.name:<32} {status}"),
        )
        recipe.write_record(spec, pipe, summary, sw.EXAMPLE)
    except SpecError as e:
        fail(e)
    _rows, table = sw.summarize(workdir, spec)
    notes = sw.grpo_notes(workdir)
    board = workdir / "board"
    text = (
        f"# Skill-world demo\n\nSeeds {seeds}; accuracy on the {spec.data.test_task} test set (3,000 problems, "
        f"greedy), mean ± sd over seeds, in %. Weak skills: mul, mod, conv.\n\n{table}\n\n"
        + "".join(f"- {n}\n" for n in notes)
        + f"\nRun time: {time.perf_counter() - t0:.0f} s.\n"
    )
    (board / "demo_summary.md").write_text(text)
    print(table)
    for n in notes:
        print(f"note: {n}")
    print(
        f"\nleaderboard: {board / 'README.md'}  (HTML: {board / 'index.html'}); summary: {board / 'demo_summary.md'}"
    )
    err.print(f"demo finished in {time.perf_counter() - t0:.0f} s")


skillworld_app = typer.Typer(
    help="The skill world: pre-train or verify the demo's base student.", no_args_is_help=True
)


def skillworld_pretrain(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the base student.")],
    seed: Annotated[int, typer.Option(help="Pre-training seed (the shipped base uses 0).")] = 0,
) -> None:
    """Rebuild the skill world's base student from its recipe (~10 min on 2 cores)."""
    from harness.skillworld.base import RECIPE, pretrain

    meta = pretrain(out_dir, {**RECIPE, "seed": seed}, log=lambda m: err.print(m))
    print(json.dumps(meta["val_accuracy_by_type"], indent=1))
    err.print(f"wrote {out_dir} (recipe {meta['recipe_hash'][:12]}, weights {meta['weights_sha256'][:12]})")


def skillworld_verify(
    model_dir: Annotated[Path, typer.Argument()] = Path("examples/skillworld/base"),
) -> None:
    """Check a base student against its recipe hash and weights sha256."""
    from harness.core.errors import SpecError
    from harness.skillworld.base import verify

    try:
        meta = verify(model_dir)
    except SpecError as e:
        fail(e, 1)
    print(f"ok: recipe {meta['recipe_hash'][:12]}, weights {meta['weights_sha256'][:12]}")


skillworld_app.command("pretrain")(skillworld_pretrain)
skillworld_app.command("verify")(skillworld_verify)
