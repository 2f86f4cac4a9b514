"""``statbench demo`` and ``statbench skillworld pretrain|verify``."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Annotated

import typer

from harness.cli.common import err, fail


def _ints(option: str, text: str) -> list[int]:
    try:
        out = [int(s) for s in text.split(",") if s.strip()]
    except ValueError:
        out = []
    if not out:
        fail(f"{option} {text!r}: give comma-separated integers, e.g. 0,1")
    return out


def demo(
    workdir: Annotated[Path, typer.Option(help="Where the demo's stages, runs and boards go.")] = Path(
        "experiments/skillworld"
    ),
    seeds: Annotated[
        str | None, typer.Option(help="Comma-separated SFT/GRPO seeds (default 0; --full: 0,1,2).")
    ] = None,
    data_seeds: Annotated[
        str | None,
        typer.Option(
            help="Comma-separated data seeds: the seeds the training sets and GRPO questions are drawn with "
            "(default 0,1,2; --full: 0,1,2,3)."
        ),
    ] = None,
    full: Annotated[bool, typer.Option("--full", help="The full grid: 4 data seeds x 3 seeds.")] = False,
) -> None:
    """The skill-world demo: Base, Uniform SFT, Embed-Sel, STAT-Sel/Syn and GRPO arms, through the real pipeline (CPU)."""
    from harness.core.errors import SpecError
    from harness.skillworld import base
    from harness.skillworld import demo as sw

    t0 = time.perf_counter()
    seed_list = _ints("--seeds", seeds) if seeds is not None else (sw.FULL_SEEDS if full else sw.SEEDS)
    data_list = (
        _ints("--data-seeds", data_seeds)
        if data_seeds is not None
        else (sw.FULL_DATA_SEEDS if full else sw.DATA_SEEDS)
    )
    try:
        from harness import recipe

        spec = None
        for ds in data_list:
            wd = sw.cell_dir(workdir, ds)
            spec = sw.load_spec(seed_list, ds).with_workdir(wd, sw.EXAMPLE.parent)
            if ds == data_list[0]:
                meta = base.verify(Path(spec.student.model))
                err.print(
                    f"base student {spec.student.model}: recipe {meta['recipe_hash'][:12]}, weights sha256 "
                    f"{meta['weights_sha256'][:12]} verified"
                )
            err.print(f"== data seed {ds} (seeds {','.join(map(str, seed_list))}) -> {wd}")
            pipe = recipe.plan(spec, wd)
            summary = pipe.run(
                log=lambda m: err.print(f"    {m}"),
                progress=lambda st, i, n, status: err.print(f"[{i + 1}/{n}] {st.name:<32} {status}"),
            )
            recipe.write_record(spec, pipe, summary, sw.EXAMPLE)
    except SpecError as e:
        fail(e)
    _summary, table = sw.summarize(workdir, data_list, spec, seed_list)
    notes = sw.selection_notes(workdir, data_list)
    cells = len(data_list) * len(seed_list)
    text = (
        f"# Skill-world demo\n\nData seeds {','.join(map(str, data_list))} x seeds "
        f"{','.join(map(str, seed_list))} = {cells} cells; accuracy on the {spec.data.test_task} test set "
        "(3,000 problems, 100 per type and template, greedy), mean over cells, in %. Weak skills: mul, mod, "
        "conv (mean of the three); by template: symbolic (`7*8`), words 1 (`7 times 8`), words 2 "
        "(`product of 7 and 8`). Δ: the arm minus Uniform SFT in the same cell, mean over cells, with a "
        "95 % t interval over the cells (cells sharing a data seed share its training sets, so the "
        "interval is optimistic when there are few data seeds). Groups with signal: the share of GRPO "
        "rollout groups whose rewards were not all equal (the others give no gradient).\n\n"
        f"{table}\n\nNon-replay training pairs per problem type (top 5):\n\n"
        + "".join(f"- {n}\n" for n in notes)
        + f"\nRun time: {time.perf_counter() - t0:.0f} s. Boards per data seed: "
        + ", ".join(f"`{sw.cell_dir(workdir, ds) / 'board' / 'README.md'}`" for ds in data_list)
        + "\n"
    )
    out = Path(workdir) / "demo_summary.md"
    out.write_text(text)
    print(table)
    print(f"\nsummary: {out}")
    for ds in data_list:
        board = sw.cell_dir(workdir, ds) / "board"
        print(f"leaderboard, data seed {ds}: {board / 'README.md'}  (HTML: {board / 'index.html'})")
    err.print(f"demo finished in {time.perf_counter() - t0:.0f} s")


skillworld_app = typer.Typer(
    help="The skill world: pre-train or verify the demo's base student.", no_args_is_help=True
)


def skillworld_pretrain(
    out_dir: Annotated[Path, typer.Argument(help="Where to write the base student.")],
    seed: Annotated[int, typer.Option(help="Pre-training seed (the shipped base uses 0).")] = 0,
) -> None:
    """Rebuild the skill world's base student from its recipe (one thread; 47 min on a loaded shared core)."""
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
