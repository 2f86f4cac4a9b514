"""The tiny model builder: local, seeded, loadable."""

import hashlib

from tests.helpers.cli import statbench


def _digests(d):
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest() for p in sorted(d.iterdir())}


def test_same_seed_same_bytes_and_cli(tiny_model, tmp_path):
    r = statbench("make-tiny-model", tmp_path / "t", "--seed", "0", timeout=300)
    assert r.returncode == 0, r.stderr
    assert _digests(tmp_path / "t") == _digests(tiny_model)


def test_tiny_model_loads_and_has_head_dim_64_and_a_chat_template(tiny_model):
    from transformers import AutoConfig, AutoTokenizer

    cfg = AutoConfig.from_pretrained(tiny_model)
    assert cfg.hidden_size // cfg.num_attention_heads == 64
    tok = AutoTokenizer.from_pretrained(tiny_model)
    text = tok.apply_chat_template(
        [{"role": "user", "content": "1+1?"}], tokenize=False, add_generation_prompt=True
    )
    assert text.endswith("<|im_start|>assistant\n")
