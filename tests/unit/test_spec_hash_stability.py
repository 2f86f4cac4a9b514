"""The prompt, reasoning and task-folder fields of EvalSpec leave every existing spec hash as it was."""

from __future__ import annotations

from harness.records.models import ChatTemplate, EvalSpec, ResolvedSpec

# computed with the code before these fields existed (main at ac2cc7d): a spec that does not use them must
# keep its identity, so finished runs are still found and caches still hit
BEFORE_EVAL = "d00a14b70578703c63b49fc36d494d151b0f30d1793b9a26db896492361fef4b"
BEFORE_RESCORE = "3f2cf21f0a2d0c8bb0ecaedfc1d67c59b575563243091267d253507030532c79"


def _eval(**spec_fields) -> ResolvedSpec:
    spec = EvalSpec(model="m", tasks=["statbench_gsm8k"], backend_args={"dtype": "float32"}, **spec_fields)
    return ResolvedSpec(
        kind="eval",
        spec=spec,
        model_fingerprint="fp",
        chat_template=ChatTemplate(mode="off"),
        tasks={"statbench_gsm8k": {"repeats": 1}},
        data_sha256={"gsm8k": "x"},
        prompt_version=1,
        versions={"checker": "c"},
    ).with_hash()


def test_unused_new_fields_keep_the_hashes():
    assert _eval().spec_hash == BEFORE_EVAL
    rescore = ResolvedSpec(
        kind="rescore", spec=EvalSpec(model="m", tasks=["statbench_gsm8k"]), source="s", source_kind="run",
        source_spec_hash="h", model_fingerprint="fp", versions={"checker": "c"},
    ).with_hash()  # fmt: skip
    assert rescore.spec_hash == BEFORE_RESCORE
    assert "system_prompt" not in EvalSpec(model="m", tasks=["statbench_gsm8k"]).model_dump()  # job ids too


def test_each_new_field_is_a_different_run(tmp_path):
    used = [
        {"system_prompt": "Be brief."},
        {"chat_template_kwargs": {"enable_thinking": True}},
        {"chat_template_file": "/t.jinja"},
        {"num_fewshot": 4},
        {"think": ("<r>", "</r>")},
    ]
    hashes = {_eval(**f).spec_hash for f in used}
    assert len(hashes) == len(used) and BEFORE_EVAL not in hashes
    assert _eval(include_path=[str(tmp_path)]).spec_hash == BEFORE_EVAL  # a folder path is not identity
