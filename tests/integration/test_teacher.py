"""The real teacher client (openai SDK) against a local server that also answers 429, 500, garbage, slow
and tag-less replies: retries, strict parsing, failure recording, the response cache, cost accounting,
and the API key never written anywhere."""

from __future__ import annotations

import pytest

from harness.adapters.teachers.base import parse_skills, tag
from harness.adapters.teachers.openai import OpenAITeacher
from harness.core.errors import SpecError
from harness.recipe.experiment import TeacherSpec
from tests.helpers.fake_teacher import Script, serve

KEY = "sk-teacher-secret-42"
LISTS = {"Algebra": ["solving_equations", "arithmetic_skills", "polynomial_skills"]}
ITEM = {"id": "q1", "problem": "Solve 2x = 4.", "subject": "Algebra", "response": "x = 3, so \\boxed{3}"}


def _teacher(url, tmp_path, **kw):
    spec = TeacherSpec(
        base_url=url,
        model="gpt-4o-mini",
        proposer_model="gpt-4o",
        api_key_env="STATBENCH_TEACHER_KEY",
        concurrency=2,
        timeout=1.0,
        max_retries=2,
        parse_retries=1,
        **kw,
    )
    return OpenAITeacher(spec, tmp_path / "teacher.sqlite")


def test_retries_parsing_cache_and_accounting(tmp_path, monkeypatch):
    monkeypatch.setenv("STATBENCH_TEACHER_KEY", KEY)
    script = Script(["429", "500", "garbage", "slow", "notags"], slow_seconds=3.0)
    with serve(script) as url:
        t = _teacher(url, tmp_path)
        [j] = t.judge([ITEM], LISTS)
        assert j is not None and j.correct is False and j.skills == ["solving_equations", "arithmetic_skills"]
        assert script.actions == []  # every injected failure was met and survived
        assert all(r["auth"] == f"Bearer {KEY}" for r in script.requests)
        n = len(script.requests)
        assert (
            t.judge([ITEM], LISTS)[0].skills == j.skills and len(script.requests) == n
        )  # served from the cache
        [qs] = t.propose([("solving_equations", [{"problem": "p", "solution": "s"}] * 3)], 2)
        assert qs == ["What is 3 + 4?", "What is 3 + 4?"]
        assert t.solve(["What is 3 + 4?"], 2) == [["Adding gives \\boxed{7}."] * 2]
        [rw] = t.rewrite([{"problem": "p", "solution": "so \\boxed{12}", "answer": "12"}], 2)
        assert len(rw) == 2 and all("\\boxed{12}" in r for r in rw)
        u = t.usage()
        assert u["requests"] > 0 and u["cached"] >= 1 and u["prompt_tokens"] > 0 and u["cost_usd"] > 0
        assert set(u["by_model"]) >= {"gpt-4o-mini", "gpt-4o"}
    assert KEY.encode() not in (tmp_path / "teacher.sqlite").read_bytes()


def test_a_reply_that_never_parses_is_recorded_as_failed(tmp_path, monkeypatch):
    monkeypatch.setenv("STATBENCH_TEACHER_KEY", KEY)
    with serve(Script(["notags"] * 10)) as url:
        t = _teacher(url, tmp_path)
        assert t.judge([ITEM], LISTS) == [None]
        assert t.usage()["failed"] == 1 and t.usage()["parse_retries"] >= 1


def test_a_dead_server_fails_items_not_the_stage(tmp_path, monkeypatch):
    monkeypatch.setenv("STATBENCH_TEACHER_KEY", KEY)
    t = _teacher(
        "http://127.0.0.1:9/v1",
        tmp_path,
    )
    assert t.solve(["What is 1 + 1?"], 1) == [[]]
    assert t.usage()["failed"] >= 1


def test_missing_key_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.delenv("STATBENCH_TEACHER_KEY", raising=False)
    with pytest.raises(SpecError, match="environment variable STATBENCH_TEACHER_KEY is not set"):
        _teacher("http://127.0.0.1:9/v1", tmp_path)


def test_strict_tag_and_skill_parsing():
    assert tag("<skill> a </skill> then <skill>b</skill>", "skill") == "b"
    assert tag("<judge></judge>", "judge") is None and tag("no tags", "judge") is None
    allowed = ["solving_equations", "Counting & Probability skills"]
    assert parse_skills('"Solving Equations", bogus, counting & probability skills', allowed, 5) == allowed
