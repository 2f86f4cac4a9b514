"""``statbench doctor`` and ``statbench containers build|ls|pin-base``."""

from __future__ import annotations

import json
from typing import Annotated

import typer

from harness.cli.common import fail


def doctor(
    as_json: Annotated[bool, typer.Option("--json", help="Machine-readable output.")] = False,
    require_cuda: Annotated[
        bool | None,
        typer.Option(
            "--require-cuda/--no-require-cuda",
            help="Fail unless CUDA works (default: required with a CUDA build of torch or in the GPU image).",
            show_default=False,
        ),
    ] = None,
) -> None:
    """Self-check: versions, CUDA (a kernel on every device), the checker (incl. a hard timeout), pins vs the lock."""
    from harness.executors.containers import doctor as run_checks
    from harness.executors.containers import summary

    checks = run_checks(require_cuda)
    if as_json:
        print(json.dumps(summary(checks), indent=1))
    else:
        for name, ok, detail in checks:
            print(f"{'ok  ' if ok else 'FAIL'}  {name:<18} {detail}")
    raise typer.Exit(0 if all(ok for _, ok, _ in checks) else 1)


containers_app = typer.Typer(
    help="Build, list and pin the GPU images (containers/Dockerfile).", no_args_is_help=True
)


def containers_build(
    target: Annotated[str, typer.Option(help="eval | train")] = "eval",
    tag: Annotated[
        list[str] | None,
        typer.Option(help="Image tag, repeatable (default statbench-<target>:<version> and :latest)."),
    ] = None,
    push: Annotated[bool, typer.Option(help="Push instead of loading into the local engine.")] = False,
) -> None:
    """docker buildx build of one target, labelled with the git sha and the lock's sha256."""
    from harness.executors.containers import ContainerError, build, default_tags

    if target not in ("eval", "train"):
        fail(f"unknown target '{target}'; valid targets: eval, train")
    try:
        code = build(target, tag or default_tags(target), push)
    except ContainerError as e:
        fail(e, 1)
    raise typer.Exit(code)


def containers_ls() -> None:
    """List local statbench images."""
    from harness.executors.containers import ContainerError, images

    try:
        rows = images()
    except ContainerError as e:
        fail(e, 1)
    print("\n".join(rows) if rows else "no statbench images (statbench containers build)")


def containers_pin_base(
    tag: Annotated[str | None, typer.Argument(help="Base image tag (default: the Dockerfile's).")] = None,
) -> None:
    """Resolve the CUDA base image's digest from the registry and pin it in the Dockerfile."""
    from harness.executors.containers import ContainerError, pin_base

    try:
        print(f"pinned {pin_base(tag)}")
    except ContainerError as e:
        fail(e, 1)


containers_app.command("build")(containers_build)
containers_app.command("ls")(containers_ls)
containers_app.command("pin-base")(containers_pin_base)
