"""The STAT recipe's stage functions and their helpers (wired into a DAG by harness/recipe.py).

Each stage function is thin: it reads its inputs' outputs, calls one adapter (harness/adapters/*) and writes
its own outputs into ``ctx.out``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from harness.adapters.skills import SkillMap
from harness.core.errors import SpecError
from harness.core.pipeline import Ctx
from harness.core.tasks import load_benchmark, task_docs
from harness.recipe.experiment import ExperimentSpec, method_uses_teacher
from harness.recipe.methods import METHODS, BuildInputs

MATHD = "statbench_mathd"


# ------------------------------------------------------------------------------------------ helpers
def _jsonl(path: Path) -> list[dict[str, Any]]:
    from harness.core import jsonl  # splits on "\n" only: U+2028 in a student answer is not a line break

    return jsonl.read_objects(path)


def _write_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    path.write_text("".join(json.dumps(r, ensure_ascii=False, sort_keys=True) + "\n" for r in rows))


def pool_rows(spec: ExperimentSpec) -> list[dict[str, Any]]:
    """The training pool's rows (after ``data.pool_limit``); refuses an empty pool or one without solutions."""
    rows = load_benchmark(spec.data.pool)
    rows = rows[: spec.data.pool_limit] if spec.data.pool_limit is not None else rows
    if not rows:
        raise SpecError("data.pool: the training pool is empty")
    missing = [k for k in ("problem", "solution", "answer") if k not in rows[0]]
    if missing:
        raise SpecError(
            f"data.pool: '{spec.data.pool}' has no {', '.join(missing)} field(s); it cannot be a training pool"
        )
    return rows


def _decontaminate(spec: ExperimentSpec, rows: list[dict[str, Any]]) -> tuple[list[dict[str, Any]], dict]:
    """``rows`` without those that hit a test set (``data.decontaminate``), and the report: every training
    input (each arm's pairs, the replay rows, the GRPO question pool) goes through here."""
    from harness.recipe.decontam import decontaminate

    if not spec.data.decontaminate:
        return rows, {"skipped": True, "rows_dropped": 0}
    return decontaminate(rows, spec.data.decontam_ngram)


def grpo_pool(spec: ExperimentSpec) -> tuple[list[dict[str, Any]], dict]:
    """The GRPO question pool: the training pool, decontaminated like every SFT set."""
    return _decontaminate(spec, pool_rows(spec))


def sample_questions(rows: list[dict[str, Any]], limit: int | None, seed: int) -> list[dict[str, Any]]:
    """GRPO's questions: all ``rows``, or a seeded sample of ``limit`` of them; not the first rows, which
    are grouped by type in a generated pool."""
    import random

    return (
        random.Random(f"grpo-questions-{seed}").sample(rows, limit) if limit and limit < len(rows) else rows
    )


def student_path(spec: ExperimentSpec, build: bool = True) -> Path | None:
    """The student's checkpoint directory: a path, or a hub id already in the local HF cache (never downloads)."""
    p = Path(spec.student.model)
    if not p.exists() and spec.student.build_tiny_seed is not None and build:
        from harness.evaluation.tinymodel import build_tiny_model

        build_tiny_model(p, seed=spec.student.build_tiny_seed)
    if not p.exists() and spec.student.model.count("/") == 1:
        try:
            from huggingface_hub import snapshot_download

            p = Path(snapshot_download(spec.student.model, local_files_only=True))
        except Exception:  # noqa: BLE001 - not cached: the caller reports it
            return None
    return p if (p / "config.json").is_file() else None


def _teacher(ctx: Ctx, spec: ExperimentSpec):
    if "teacher" not in ctx.shared:
        from harness.adapters.teachers import make_teacher

        ctx.shared["teacher"] = make_teacher(
            spec.teacher, ctx.workdir / ".cache" / "teacher.sqlite", seed=spec.data_seed
        )
    return ctx.shared["teacher"]


def _with_usage(ctx: Ctx, spec: ExperimentSpec, fn):
    """Run fn(teacher) and return (result, the teacher usage this stage added)."""
    teacher = _teacher(ctx, spec)
    before = teacher.usage()
    out = fn(teacher)
    after = teacher.usage()
    delta = {k: round(after[k] - before.get(k, 0), 6) for k in after if isinstance(after[k], int | float)}
    (ctx.out / "teacher_usage.json").write_text(json.dumps(delta, indent=1) + "\n")
    return out, delta


def _eval(
    ctx: Ctx,
    spec: ExperimentSpec,
    model: Path,
    tasks: list[str],
    labels: dict[str, str],
    protocol: str,
    limit: int | None,
    seed: int,
    max_gen_toks: int | None,
    subsets: dict | None = None,
):
    from harness.evaluation.runner import run_eval, spec_from_cli
    from harness.evaluation.spec import chat_template_kwargs

    backend_args = dict(spec.student.backend_args)
    pinned = chat_template_kwargs(Path(model), spec.student.chat_template_date)
    if pinned:  # the date a chat template writes, the same in SFT, GRPO and every evaluation
        backend_args["chat_template_kwargs"] = {**pinned, **backend_args.get("chat_template_kwargs", {})}
    es = spec_from_cli(
        str(model),
        spec.student.backend,
        tasks,
        protocol=protocol,
        limit=limit,
        seed=seed,
        batch_size=spec.student.batch_size,
        max_gen_toks=max_gen_toks,
        chat_template=spec.student.chat_template,
        backend_args=backend_args,
        labels=labels,
        subsets=subsets or {},
        **({"include_path": list(spec.include_path)} if spec.include_path else {}),
    )
    return run_eval(es, ctx.workdir / "runs", log=ctx.log)


def _model_dir(inputs: dict[str, Path], dep: str) -> Path:
    """The model a select-lr stage picked (its choice.json)."""
    return Path(json.loads((inputs[dep] / "choice.json").read_text())["model"])


def _mathd_ids(spec: ExperimentSpec, ctx: Ctx) -> Path | None:
    """The difficulty stage's MATH^D id list, when MATH^D is scored and not empty."""
    ids = ctx.inputs["difficulty"] / "mathd_ids.txt"
    return ids if spec.eval.mathd and ids.read_text().strip() else None


def student_protocol(spec: ExperimentSpec) -> str:
    """The protocol the student answers Q_val/Q_test under in Stage 1."""
    return "consistency-5" if spec.difficulty.method == "consistency" else spec.difficulty.protocol


# ------------------------------------------------------------------------------------------ stages
def skillmap_stage(spec: ExperimentSpec):
    """The stage function that labels the pool's skills."""

    def run(ctx: Ctx) -> dict[str, Any]:
        from harness.adapters.skills import build_skill_map

        pool = pool_rows(spec)
        if spec.data.skill_labels == "teacher":
            (smap, report), _ = _with_usage(ctx, spec, lambda t: build_skill_map(pool, "teacher", t))
        else:
            smap, report = build_skill_map(pool, "adaptmi")
        (ctx.out / "skillmap.json").write_text(json.dumps(smap.to_json(), indent=1, sort_keys=True) + "\n")
        return {**report, "skills": len(smap.by_skill)}

    return run


def student_stage(spec: ExperimentSpec, split: str):
    """The stage function that samples the student on the ``val`` or ``test`` split (Stage 1)."""

    def run(ctx: Ctx) -> dict[str, Any]:
        task = spec.data.val_task if split == "val" else spec.data.test_task
        limit = spec.data.val_limit if split == "val" else spec.data.test_limit
        out = _eval(
            ctx,
            spec,
            student_path(spec),
            [task],
            {"experiment": spec.name, "role": f"stage1-{split}"},
            student_protocol(spec),
            limit,
            spec.data_seed,
            spec.difficulty.max_gen_toks,
        )
        from harness.records.store import iter_samples

        _write_jsonl(ctx.out / "samples.jsonl", [r.to_json() for r in iter_samples(out.run_dir, task)])
        return {
            "run": out.run_dir.name,
            "task": task,
            "accuracy": out.results[task].value,
            "n": out.results[task].n,
        }

    return run


def difficulty_stage(spec: ExperimentSpec):
    """The stage function that classifies the student's questions as difficult or not."""

    def run(ctx: Ctx) -> dict[str, Any]:
        from harness.adapters.difficulty import PRMScorer, agreement_with_checker, classify

        prm = (
            PRMScorer(spec.difficulty.prm_model, date=spec.student.chat_template_date)
            if spec.difficulty.method == "prm"
            else None
        )
        report: dict[str, Any] = {"method": spec.difficulty.method}
        for split, task in (("val", spec.data.val_task), ("test", spec.data.test_task)):
            docs = {str(d["id"]): d for d in task_docs(task)}
            samples = _jsonl(ctx.inputs[f"student/{split}"] / "samples.jsonl")
            verdicts = classify(samples, spec.difficulty, {k: d["problem"] for k, d in docs.items()}, prm)
            difficult = [
                {
                    "id": q,
                    "problem": docs[q]["problem"],
                    "subject": docs[q].get("subject"),
                    "skills": docs[q].get("skills", []),
                    **v,
                }
                for q, v in verdicts.items()
                if v["difficult"]
            ]
            _write_jsonl(ctx.out / f"difficult_{split}.jsonl", difficult)
            report[split] = {**agreement_with_checker(verdicts), "difficult": len(difficult)}
            if split == "test":
                (ctx.out / "mathd_ids.txt").write_text("".join(f"{d['id']}\n" for d in difficult))
        return report

    return run


def msp_stage(spec: ExperimentSpec):
    """The stage function that builds the missing-skill profile from the difficult validation questions."""

    def run(ctx: Ctx) -> dict[str, Any]:
        from harness.adapters.skills import missing_skill_profile

        difficult = _jsonl(ctx.inputs["difficulty"] / "difficult_val.jsonl")
        profile, usage = _with_usage(
            ctx, spec, lambda t: missing_skill_profile(difficult, t, spec.msp, spec.data_seed, ctx.out)
        )
        top = list(profile["histogram"].items())[:10]
        return {k: profile[k] for k in ("questions", "failed", "judged_correct", "with_skills")} | {
            "top_skills": top,
            "teacher": usage,
        }

    return run


def dataset_stage(spec: ExperimentSpec, method: str):
    """The stage function that builds ``method``'s training set, decontaminated."""

    def run(ctx: Ctx) -> dict[str, Any]:
        from harness.adapters import select
        from harness.recipe import budget

        pool = {r["id"]: r for r in pool_rows(spec)}
        seed = spec.data_seed
        smap = (
            SkillMap.from_labels(
                json.loads((ctx.inputs["skillmap"] / "skillmap.json").read_text())["by_question"]
            )
            if "skillmap" in ctx.inputs
            else None
        )
        msp = json.loads((ctx.inputs["msp"] / "msp.json").read_text()) if "msp" in ctx.inputs else None
        difficult = (
            _jsonl(ctx.inputs["difficulty"] / "difficult_val.jsonl") if "difficulty" in ctx.inputs else []
        )

        inputs = BuildInputs(pool, spec, seed, difficult, smap, msp)

        def build(teacher) -> tuple[list[dict], dict[str, Any]]:
            return METHODS[method].build(inputs, teacher)

        if method_uses_teacher(method, spec.select):
            (rows, report), usage = _with_usage(ctx, spec, build)
        else:
            (rows, report), usage = build(None), {}
        kept, contamination = _decontaminate(spec, rows)
        n_replay = budget.replay_pairs(spec)
        final = (
            kept if not METHODS[method].subsample else select.subsample(kept, spec.budget - n_replay, seed)
        )
        within_budget = budget.check(spec, method, len(final))  # a shortfall stops here unless allowed
        if within_budget["budget"] is not None:
            short = within_budget["budget_shortfall"]
            ctx.log(
                f"dataset/{method}: {len(final):,} pairs for a budget of {within_budget['budget']:,}"
                + (f" ({short:,} short, allowed by budget_policy)" if short else "")
            )
        if n_replay:  # the same replay rows in every arm, decontaminated like the rest
            replay, _ = _decontaminate(
                spec,
                [{**select.original(q), "source": "replay"} for q in load_benchmark(spec.data.replay_pool)],
            )
            final = final + select.subsample(replay, n_replay, seed)
        if not final:
            raise SpecError(
                f"dataset/{method}: no training examples survived (built {len(rows)}, "
                f"{contamination['rows_dropped']} contaminated); check the teacher and the MSP"
            )
        _write_jsonl(ctx.out / "train.jsonl", final)
        (ctx.out / "decontamination.json").write_text(json.dumps(contamination, indent=1) + "\n")
        sources: dict[str, int] = {}
        for r in final:
            sources[r["source"]] = sources.get(r["source"], 0) + 1
        return {
            **report,  # the method's own counts first: the stage's fields below win a name clash
            "method": method,
            "built": len(rows),
            "contaminated": contamination["rows_dropped"],
            "pairs": len(final),
            **within_budget,
            "questions": len({r["question_id"] for r in final}),
            "sources": sources,
            "teacher": usage,
        }

    return run


def sft_stage(spec: ExperimentSpec, method: str, lr: float, seed: int):
    """The stage function that runs SFT for ``method`` at one learning rate and seed."""

    def run(ctx: Ctx) -> dict[str, Any]:
        from harness.adapters import sft

        rows = _jsonl(ctx.inputs[f"dataset/{method}"] / "train.jsonl")
        meta = sft.train(
            str(student_path(spec)),
            rows,
            ctx.out / "model",
            ctx.work,
            spec.sft(),
            lr,
            seed,
            log=ctx.log,
            data=spec.data.pool,
            chat_template_date=spec.student.chat_template_date,
            report_to=spec.hparams.report_to,
        )
        keys = ("method", "learning_rate", "steps", "train_loss", "examples", "resumed_from", "batch_plan")
        return {k: meta[k] for k in keys}

    return run


def select_lr_stage(spec: ExperimentSpec, method: str, seed: int, lr_stages: list[tuple[float, str]]):
    """The stage function that picks ``method``'s SFT learning rate on the validation task."""

    def run(ctx: Ctx) -> dict[str, Any]:
        scores: dict[float, float | None] = {}
        if len(lr_stages) == 1:  # nothing to pick: no evaluation
            scores[lr_stages[0][0]] = None
        else:
            for lr, dep in lr_stages:
                out = _eval(
                    ctx,
                    spec,
                    ctx.inputs[dep] / "model",
                    [spec.eval.lr_select_task],
                    {"experiment": spec.name, "role": "lr-select", "method": method, "lr": str(lr)},
                    spec.eval.protocol,
                    spec.eval.limit,
                    seed,
                    spec.eval.max_gen_toks,
                )
                scores[lr] = out.results[spec.eval.lr_select_task].value
        best = max(lr_stages, key=lambda x: (scores[x[0]] or 0.0, -x[0]))  # ties: the smaller learning rate
        (ctx.out / "choice.json").write_text(
            json.dumps(
                {
                    "lr": best[0],
                    "model": str(ctx.inputs[best[1]] / "model"),
                    "scores": {str(k): v for k, v in scores.items()},
                },
                indent=1,
            )
            + "\n"
        )
        return {"lr": best[0], "scores": {str(k): v for k, v in scores.items()}}

    return run


def grpo_stage(spec: ExperimentSpec, method: str, seed: int):
    """The stage function that runs GRPO from ``method``'s SFT model (or the base student)."""

    def run(ctx: Ctx) -> dict[str, Any]:
        from harness.adapters import grpo

        hp = spec.grpo()
        init = student_path(spec) if method == "base" else _model_dir(ctx.inputs, f"sft/{method}/s{seed}")
        clean, contamination = grpo_pool(spec)  # decontaminate first, then pick the questions
        questions = sample_questions(clean, hp.question_limit, spec.data_seed)
        meta = grpo.train(
            str(init),
            questions,
            ctx.out / "model",
            ctx.work,
            hp,
            seed,
            log=ctx.log,
            data=spec.data.pool,
            chat_template_date=spec.student.chat_template_date,
            report_to=spec.hparams.report_to,
        )
        keys = ("steps", "questions", "vllm", "no_signal", "frac_reward_zero_std_mean", "resumed_from")
        return {k: meta[k] for k in keys} | {
            "contaminated": contamination["rows_dropped"],
            "batch_plan": meta["batch_plan"],
            "loss": meta["loss"],
        }

    return run


def eval_stage(spec: ExperimentSpec, method: str, stage: str, seed: int):
    """The stage function that evaluates ``method`` after SFT or GRPO."""

    def run(ctx: Ctx) -> dict[str, Any]:
        if stage == "grpo":
            model = ctx.inputs[f"grpo/{method}/s{seed}"] / "model"
        else:
            model = (
                student_path(spec) if method == "base" else _model_dir(ctx.inputs, f"sft/{method}/s{seed}")
            )
        tasks, subsets = spec.eval_tasks(), {}
        ids = _mathd_ids(spec, ctx)
        if ids is not None:
            subsets = {MATHD: {"base": spec.data.test_task, "ids_file": str(ids.resolve())}}
            tasks = [*tasks, MATHD]
        labels = {"experiment": spec.name, "student": spec.student_name(), "method": method, "stage": stage}
        out = _eval(
            ctx,
            spec,
            model,
            tasks,
            labels,
            spec.eval.protocol,
            spec.eval.limit,
            seed,
            spec.eval.max_gen_toks,
            subsets,
        )
        return {"run": out.run_dir.name, "results": {t: r.value for t, r in out.results.items()}}

    return run


def board_stage(spec: ExperimentSpec, arms: list[tuple[str, str]]):
    """The stage function that writes the experiment's leaderboard from the eval stages' runs."""

    def run(ctx: Ctx) -> dict[str, Any]:
        import yaml

        from harness.reporting.render import generate

        columns = spec.eval_tasks() + ([MATHD] if _mathd_ids(spec, ctx) is not None else [])
        groups = []
        for stage, name in (("sft", "SFT"), ("grpo", "SFT+GRPO")):
            rows = [
                {
                    "id": f"{m}-{stage}",
                    "label": METHODS[m].label + (" (GRPO only)" if m == "base" and stage == "grpo" else ""),
                    "labels": {"experiment": spec.name, "method": m, "stage": stage},
                }
                for m, s in arms
                if s == stage
            ]
            if rows:
                groups.append({"name": name, "rows": rows})
        board = {
            "title": f"{spec.name}: {spec.student_name()}",
            "protocol": spec.eval.protocol,
            "columns": columns,
            "base": "base-sft" if ("base", "sft") in arms else None,
            "groups": groups,
            "subsets": {MATHD: spec.data.test_task} if MATHD in columns else {},
            "skills_task": spec.data.test_task if spec.data.test_task in columns else None,
        }
        if (
            spec.include_path
        ):  # the experiment's task folders, so `statbench leaderboard` on it sees the tasks
            board["include_path"] = list(spec.include_path)
        folder = ctx.workdir / "board"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "board.yaml").write_text(yaml.safe_dump(board, sort_keys=False))
        generate(folder, ctx.workdir / "runs")
        for name in ("README.md", "table.csv", "index.html"):
            (ctx.out / name).write_text((folder / name).read_text())
        return {"board": str(folder)}

    return run
