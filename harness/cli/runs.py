"""``statbench runs list|show|reindex`` and ``statbench rescore``."""

from __future__ import annotations

from typing import Annotated

import typer

from harness.cli.common import err, fail, print_results
from harness.cli.options import DEFAULT_RUNS, RunsDir, Workers

runs_app = typer.Typer(
    help="Run records: list, show, re-index; compare two (diff), browse (view), send to a tracker (export).",
    no_args_is_help=True,
)


def runs_list(runs_dir: RunsDir = DEFAULT_RUNS) -> None:
    """One line per run: id, kind, model, backend, protocol, seed, labels, source."""
    from harness.core.errors import StatbenchError
    from harness.core.fileio import format_table
    from harness.records.store import RunIndex

    if not runs_dir.is_dir():
        fail(f"{runs_dir}: no runs directory")
    try:
        rows = RunIndex(runs_dir).runs()  # read-only: works on an archived, read-only runs dir
    except StatbenchError as e:
        fail(e, e.exit_code)
    print(
        format_table(
            ["run", "kind", "model", "backend", "protocol", "seed", "labels", "source"],
            [
                [
                    r["run_id"],
                    r["kind"] or "",
                    r["model"] or "",
                    r["backend"] or "",
                    r["protocol"] or "",
                    "" if r["seed"] is None else str(r["seed"]),
                    ",".join(f"{k}={v}" for k, v in r["labels"].items()),
                    r["source"] or "",
                ]
                for r in rows
            ],
            right=False,
        )
    )
    err.print(f"{len(rows)} run(s) in {runs_dir}")


def runs_show(
    run: Annotated[str, typer.Argument(help="Run id (or unique prefix) or run directory.")],
    runs_dir: RunsDir = DEFAULT_RUNS,
) -> None:
    """Results and provenance summary of one run."""
    from harness.core.errors import StatbenchError
    from harness.records.store import RunIndex, read_run

    try:
        path = RunIndex(runs_dir).resolve(run)
        rec = read_run(path)
    except StatbenchError as e:
        fail(e, e.exit_code)
    spec, prov, user = rec.spec, rec.provenance, rec.spec.spec
    seed = user.seed if rec.spec.eval_spec else None
    template = spec.chat_template.model_dump() if spec.chat_template else None
    print(f"run {path.name}  ({spec.kind}; spec {spec.spec_hash[:16]})")
    print(f"model {user.model}  backend {user.backend}  protocol {user.protocol}  seed {seed}")
    print(f"fingerprint {str(spec.model_fingerprint)[:16]}  chat template {template}")
    if spec.source:
        print(f"rescored from {spec.source}")
    print(f"git {prov.get('git')}  python {prov.get('python')}  checker {prov.get('checker')}")
    print_results(rec.results)


def runs_reindex(runs_dir: RunsDir = DEFAULT_RUNS) -> None:
    """Rebuild runs/index.sqlite from scratch from the run directories (whatever the old file holds)."""
    from harness.core.errors import StatbenchError
    from harness.records.store import RunIndex

    if not runs_dir.is_dir():
        fail(f"{runs_dir}: no runs directory")
    try:
        n = RunIndex(runs_dir).rebuild()
    except StatbenchError as e:
        fail(e, e.exit_code)
    err.print(f"indexed {n} run(s) in {runs_dir}")


def rescore(
    source: Annotated[
        str,
        typer.Argument(
            help="A statbench run (id or directory) or lm-eval samples_*.jsonl (file or directory)."
        ),
    ],
    runs_dir: RunsDir = DEFAULT_RUNS,
    workers: Workers = None,
    show: Annotated[int, typer.Option(help="How many changed verdicts to print.")] = 20,
) -> None:
    """Re-grade saved generations with the current checker (no regeneration); lists changed verdicts."""
    from harness.core.errors import StatbenchError
    from harness.evaluation.rescore import rescore as do_rescore

    try:
        out = do_rescore(source, runs_dir, workers)
    except StatbenchError as e:
        fail(e, e.exit_code)
    print_results(out.results)
    print(f"{len(out.changes)} verdict(s) changed" + (":" if out.changes else ""))
    for c in out.changes[:show]:
        print(
            f"  {c['task']} {c['id']} sample {c.get('sample', '-')}: {c['before']} -> {c['after']} "
            f"(extracted {c['extracted']!r}, reference {c['reference']!r})"
        )
    if len(out.changes) > show:
        print(f"  ... {len(out.changes) - show} more in {out.run_dir / 'changes.jsonl'}")
    err.print(f"run: {out.run_dir}")


runs_app.command("list")(runs_list)
runs_app.command("show")(runs_show)
runs_app.command("reindex")(runs_reindex)
