"""Your own benchmark, no code change: a task folder (--include-path DIR) with a task YAML naming a JSONL file.

The same folder is run by `statbench eval` and by plain lm-eval (its TaskManager with include_path, as
`lm_eval --include_path DIR` does); the data's sha256 is pinned by `statbench tasks add` and drift is refused.
"""

from __future__ import annotations

import json
import re
from pathlib import Path

from tests.helpers.cli import assert_one_error, statbench

PROBLEMS = [(f"q{i}", f"What is {i} plus {i}?", 2 * i, "add" if i % 2 else "double") for i in range(1, 7)]


def make_folder(root: Path, name: str = "add6", prompt: str | None = None) -> Path:
    """A task folder with one task: six problems (answers as ints, ids, skills) and its short YAML."""
    d = root / "mytasks"
    d.mkdir(parents=True, exist_ok=True)
    rows = [{"uid": i, "question": q, "gold": a, "topic": s} for i, q, a, s in PROBLEMS]
    (d / f"{name}.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    kw = {
        "data": f"{name}.jsonl",
        "question": "question",
        "answer": "gold",
        "family": "aime",
        "id": "uid",
        "skill": "topic",
    }
    if prompt:
        kw["prompt"] = prompt
    (d / f"{name}.yaml").write_text(f"task: {name}\ndataset_kwargs: {json.dumps(kw)}\n")
    return d


def _answer(prompt: str) -> str:
    a, b = re.search(r"What is (\d+) plus (\d+)\?", prompt).groups()
    return str(int(a) + int(b))


def test_pin_list_and_refuse_drift_in_one_line(tmp_path, registry):
    d = make_folder(tmp_path)
    yaml_path = d / "add6.yaml"
    r = statbench("tasks", "--include-path", d)
    assert_one_error(r, 2, "not pinned", "statbench tasks add")
    r = statbench("tasks", "add", yaml_path)
    assert r.returncode == 0, r.stderr
    assert "sha256" in yaml_path.read_text() and "pinned" in r.stderr
    r = statbench(
        "tasks", "--include-path", d, env={"COLUMNS": "80"}
    )  # piped: the table takes the width it needs
    assert r.returncode == 0, r.stderr
    assert re.search(r"add6 \*\s*│\s*6\s*│\s*pass@64", r.stdout), r.stdout
    assert f"  add6: {yaml_path.resolve()}\n" in r.stdout  # the source, unwrapped, below the table
    with (d / "add6.jsonl").open("a") as fh:  # the data changes after it was pinned
        fh.write(json.dumps({"uid": 99, "question": "What is 1 plus 1?", "gold": 3}) + "\n")
    r = statbench("eval", "--model", "m", "--backend", "openai", "--include-path", d, "--tasks", "add6",
                  "--runs-dir", tmp_path / "runs")  # fmt: skip
    line = assert_one_error(r, 2, "add6.jsonl: sha256", "does not match", "pinned in", "statbench tasks add")
    assert "Traceback" not in r.stderr, line


def test_the_include_path_environment_variable_registers_a_folder(tmp_path, registry):
    from harness.core.task_folders import pin_user_task

    d = make_folder(tmp_path)
    pin_user_task(d / "add6.yaml")
    assert "add6" not in statbench("ls", "tasks").stdout
    r = statbench("ls", "tasks", env={"STATBENCH_INCLUDE_PATH": str(d)})
    assert re.search(r"^add6 .*\(aime\)$", r.stdout, re.M), r.stdout


def test_a_malformed_task_yaml_is_one_line(tmp_path, registry):
    d = make_folder(tmp_path)
    (d / "add6.yaml").write_text(
        "task: add6\ndataset_kwargs: {data: add6.jsonl, question: question, answer: gold, family: olympiad}\n"
    )
    r = statbench("tasks", "add", d / "add6.yaml")
    assert_one_error(r, 2, "add6.yaml: dataset_kwargs.family must be one of math, amc, aime")
    (d / "add6.yaml").write_text(
        "task: statbench_gsm8k\ndataset_kwargs: {data: add6.jsonl, question: q, answer: a, family: math, sha256: x}\n"
    )
    r = statbench("tasks", "--include-path", d)
    assert_one_error(r, 2, "task 'statbench_gsm8k' is already defined by the bundled registry")


def test_statbench_eval_and_plain_lm_eval_run_the_same_folder(tmp_path, registry):
    import lm_eval
    from lm_eval.api.model import LM
    from lm_eval.tasks import TaskManager

    from harness.core.task_folders import pin_user_task
    from harness.evaluation.runner import run_eval, spec_from_cli
    from harness.records.store import iter_samples, read_run
    from tests.helpers.fake_openai import FakeModel, serve

    d = make_folder(tmp_path, prompt="Solve: {problem} Put the answer in \\boxed{}.")
    pin_user_task(d / "add6.yaml")

    model = FakeModel(accuracy=1.0)
    with serve(model) as url:
        spec = spec_from_cli("served", "openai", ["add6"], include_path=[str(d)], protocol="greedy",
                             backend_args={"base_url": url})  # fmt: skip
        model.answers = {doc["prompt"]: _answer(doc["prompt"]) for doc in registry.task_docs("add6")}
        out = run_eval(spec, tmp_path / "runs")
    res = out.results["add6"]
    assert res.n == 6 and res.value == 1.0
    rows = list(iter_samples(out.run_dir, "add6"))
    assert [r.problem_id for r in rows] == [str(i) for i, *_ in PROBLEMS]
    assert (
        rows[0].prompt == "Solve: What is 1 plus 1? Put the answer in \\boxed{}." and rows[0].reference == "2"
    )
    rec = read_run(out.run_dir)
    definition = rec.spec.tasks["add6"]["metadata"]["task_definition"]
    assert (
        definition["question"] == "question"
        and definition["data_sha256"] == rec.spec.data_sha256["user:add6"]
    )
    assert (
        "include_path" not in json.loads((out.run_dir / "spec.json").read_text())["spec"]
    )  # a path is not identity
    from harness.evaluation.rescore import rescore

    again = rescore(str(out.run_dir), tmp_path / "runs")  # re-grading treats it like a bundled task
    assert again.results["add6"].value == 1.0 and not again.changes

    # plain lm-eval: the same YAML through lm-eval's own task index (what `lm_eval --include_path DIR` does)
    class Solver(LM):
        def generate_until(self, requests, disable_tqdm=False):
            return [f"So it is $\\boxed{{{_answer(r.args[0])}}}$." for r in requests]

        def loglikelihood(self, requests, disable_tqdm=False):
            raise NotImplementedError

        def loglikelihood_rolling(self, requests, disable_tqdm=False):
            raise NotImplementedError

    tm = TaskManager(include_path=str(d), include_defaults=False)
    got = lm_eval.simple_evaluate(model=Solver(), tasks=["add6"], task_manager=tm, log_samples=True)
    assert got["results"]["add6"]["avg_at_k,all"] == 1.0
    assert [s["doc"]["id"] for s in got["samples"]["add6"]] == [str(i) for i, *_ in PROBLEMS]
    assert got["samples"]["add6"][0]["doc"]["skills"] == ["add"]
