"""The skill world: the world is deterministic and correct, the shipped base student matches its recipe, the
oracle teacher answers by construction and names only the skills this student lacks, GRPO samples the whole
pool, and the demo's paired intervals are right. The demo itself: tests/e2e/test_demo.py."""

from __future__ import annotations

import random
import shutil
from collections import Counter
from pathlib import Path

import pytest

from harness.core.errors import SpecError
from harness.core.tasks import load_benchmark
from harness.skillworld import world
from harness.skillworld.base import verify
from harness.skillworld.demo import load_spec, paired_ci
from harness.skillworld.teacher import THRESHOLD, SkillWorldTeacher, skill_accuracy

ROOT = Path(__file__).resolve().parents[2]
BASE = ROOT / "examples" / "skillworld" / "base"


def test_bundled_splits_are_the_generator_output():
    splits = world.build_splits(0)
    for name in ("train", "val", "test", "replay"):
        assert load_benchmark(f"skillworld_{name}") == splits[name]
    test = splits["test"]
    cells = Counter((p["type"], p["template"]) for p in test)
    assert set(cells) == {(t, k) for t in world.TYPES for k in range(world.TEMPLATES)}
    assert set(cells.values()) == {100}  # the test set covers every type in every template equally
    for p in test + splits["train"] + splits["val"]:
        assert world.parse(p["problem"]) == (p["type"], p["template"], int(p["answer"]))
    pool = [p["problem"] for p in splits["train"]]
    assert len(set(pool)) == len(pool)  # distinct problems only: no arm gains or loses by de-duplication
    assert Counter(p["type"] for p in splits["train"])["conv"] == 180  # 60 facts x 3 templates


def test_templates_write_one_fact_three_ways():
    r = random.Random(0)
    texts = [world.TYPES["mul+add"].make(random.Random(1), k)[0] for k in range(world.TEMPLATES)]
    assert texts[0].count("*") == 1 and "times" in texts[1] and texts[2].startswith("product of")
    assert len({world.TYPES["mul+add"].make(random.Random(1), k)[1] for k in range(world.TEMPLATES)}) == 1
    assert world.parse("4 less than 9") == ("sub", 2, 5)  # operands in text order differ from a-b order
    assert world.parse("7*8*9") is None and world.answer_of("sum of 1 and 2, plus 3") is None
    assert world.problem(r, "conv@2", "x")["problem"].startswith("secs in ")


def test_shipped_base_matches_its_recipe(tmp_path):
    meta = verify(BASE)
    acc = meta["val_accuracy_by_type"]
    assert min(acc[t] for t in ("add", "sub", "max", "min")) >= 0.7  # strong skills are strong
    assert max(acc[t] for t in ("mul", "conv")) <= 0.3  # weak skills are weak
    copy = tmp_path / "base"
    shutil.copytree(BASE, copy)
    w = copy / "model.safetensors"
    data = bytearray(w.read_bytes())
    data[-1] ^= 1
    w.chmod(0o644)
    w.write_bytes(bytes(data))
    with pytest.raises(SpecError, match=r"sha256 .* does not match recipe\.json"):
        verify(copy)


def _val_ids(pred) -> set[str]:
    return {str(p["id"]) for p in load_benchmark("skillworld_val") if pred(p)}


def test_oracle_teacher_names_only_the_skills_the_student_lacks():
    # a student that fails every mul problem and nothing else: mul is missing, add is not
    failed = _val_ids(lambda p: "mul" in p["skills"])
    assert skill_accuracy(failed)["mul"] == 0.0 and skill_accuracy(failed)["add"] == 1.0
    items = [{"id": i, "problem": "", "skills": ["mul", "add"] if "add" in i else ["mul"]} for i in failed]
    items.append({"id": "slip", "problem": "max(3,8)+4", "skills": ["max", "add"]})
    t = SkillWorldTeacher(0)
    judged = t.judge(items, {})
    assert {tuple(j.skills) for j in judged[:-1]} == {("mul",)}
    assert len(judged[-1].skills) == 1 and judged[-1].skills[0] in ("max", "add")  # a slip: its weakest skill
    assert not any(j.correct for j in judged)
    # with the threshold at 0, nothing is below it: every failure names only its weakest skill
    assert all(len(j.skills) == 1 for j in SkillWorldTeacher(0, threshold=0.0).judge(items, {}))
    assert 0 < THRESHOLD < 1


def test_oracle_teacher_synthesis_and_solutions():
    t = SkillWorldTeacher(0)
    [qs] = t.propose([("conv", [])], 30)
    assert len(qs) == 30 and all(world.parse(q)[0] == "conv" for q in qs)
    assert len({world.parse(q)[1] for q in qs}) == world.TEMPLATES  # every template, not one surface form
    assert t.solve(qs[:1], 3) == [[world.solution(world.answer_of(qs[0]))] * 3]
    assert world.restricted(random.Random(0), {"mul"}, 5, "p")[0]["skills"] == ["mul"]


def test_grpo_questions_are_a_seeded_sample_of_the_whole_pool():
    from harness.recipe.stages import pool_rows, sample_questions

    pool = pool_rows(load_spec([0], 0))
    qs = sample_questions(pool, 2000, 0)
    assert len(qs) == 2000 and {q["type"] for q in qs} == set(world.TYPES)  # not the pool's first rows
    assert [q["id"] for q in qs] == [q["id"] for q in sample_questions(pool, 2000, 0)]
    assert [q["id"] for q in qs] != [q["id"] for q in sample_questions(pool, 2000, 1)]
    assert sample_questions(pool, None, 0) == pool == sample_questions(pool, 10**6, 0)


def test_paired_ci():
    m, lo, hi = paired_ci([0.01, 0.02, 0.03])
    assert m == pytest.approx(0.02) and hi - m == pytest.approx(4.3027 * 0.01 / 3**0.5, rel=1e-3)
    assert lo == pytest.approx(2 * m - hi)
    assert paired_ci([0.05]) is None


TASKS_DIR = ROOT / "examples" / "skillworld" / "tasks"
WORLD_TASKS = {"statbench_skillworld": "skillworld_test", "statbench_skillworld_val": "skillworld_val"}


def test_world_tasks_are_a_pinned_task_folder_loaded_through_the_spec():
    import json

    from harness.core.task_folders import read_user_task
    from harness.core.tasks import TASKS, task_docs, tasks_dir

    spec = load_spec([0], 0)
    assert spec.include_path == [str(TASKS_DIR)]  # relative to the spec file, resolved
    assert spec.eval_tasks() == ["statbench_skillworld"]
    manifest = json.loads((tasks_dir() / "data" / "MANIFEST.json").read_text())
    for task, data in WORLD_TASKS.items():
        td = TASKS[task]
        assert td.user is not None and Path(td.user.yaml) == TASKS_DIR / f"{task}.yaml"  # not the registry
        assert read_user_task(TASKS_DIR / f"{task}.yaml")[1].user.sha256 == manifest[data]["sha256"]  # pinned
        # the documents (so the prompts and the samples) are the bundled records, asked with the world's prompt
        rows = load_benchmark(data)
        docs = task_docs(task)
        assert [d["id"] for d in docs] == [r["id"] for r in rows]
        assert [d["answer"] for d in docs] == [r["answer"] for r in rows]
        assert [d["skills"] for d in docs] == [r["skills"] for r in rows]
        assert [d["prompt"] for d in docs] == [world.PROMPT.format(problem=r["problem"]) for r in rows]


def test_world_task_refuses_drifted_data(tmp_path):
    import yaml

    from harness.core.errors import DataIntegrityError
    from harness.core.task_folders import read_user_task, user_docs

    src = TASKS_DIR / "statbench_skillworld_val.yaml"
    cfg = yaml.safe_load(src.read_text().split("\ncustom_dataset:")[0])
    data = (TASKS_DIR / cfg["dataset_kwargs"]["data"]).resolve()
    lines = data.read_text().splitlines(keepends=True)
    (tmp_path / "val.jsonl").write_text(
        "".join(lines[:-1]) + lines[-1].replace('"answer": "', '"answer": "1')
    )
    cfg["dataset_kwargs"]["data"] = "val.jsonl"
    (tmp_path / "t.yaml").write_text(yaml.safe_dump(cfg))
    _, td = read_user_task(tmp_path / "t.yaml")
    with pytest.raises(DataIntegrityError, match=r"val\.jsonl: sha256 .* does not match .* pinned in"):
        user_docs(td.user)


def test_board_registers_its_include_path(tmp_path):
    import subprocess
    import sys

    # a fresh process (nothing registered): a board names the world's task; its include_path makes it known
    for name, extra in (("with", f"include_path: [{TASKS_DIR}]\n"), ("without", "")):
        (tmp_path / name).mkdir()
        (tmp_path / name / "board.yaml").write_text(
            f"title: t\ncolumns: [statbench_skillworld]\ngroups: []\n{extra}"
        )
    code = (
        "import sys; from pathlib import Path; from harness.core.errors import SpecError\n"
        "from harness.reporting.board_spec import load_board\n"
        "try:\n    load_board(Path(sys.argv[2]))\nexcept SpecError as e:\n    print(e)\n"
        "load_board(Path(sys.argv[1]))  # after the refusal: registering is what makes the task known\n"
    )
    env = {k: v for k, v in __import__("os").environ.items() if k != "STATBENCH_INCLUDE_PATH"}
    out = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path / "with"), str(tmp_path / "without")],
        capture_output=True,
        text=True,
        env=env,
        check=True,
    ).stdout
    assert "without/board.yaml: columns: unknown task(s) statbench_skillworld" in out
