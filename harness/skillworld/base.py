"""The skill world's base student: a character-level tokenizer and a small Qwen2 model, pre-trained on
the skewed base mix with a plain PyTorch loop (faster than a trainer at this size).

``statbench skillworld pretrain DIR [--seed S]`` rebuilds it from ``RECIPE``; the committed checkpoint in
``examples/skillworld/base`` carries ``recipe.json`` with the recipe's hash and the sha256 of its weights,
which the demo verifies before it runs. Training is seeded and single-threaded-deterministic on CPU; a
different CPU or BLAS build can still change low-order float bits, so a rebuild elsewhere is equivalent,
not necessarily byte-identical (the hash check is about integrity of the committed file).
"""

from __future__ import annotations

import hashlib
import json
import math
import random
import time
from pathlib import Path
from typing import Any

from harness.skillworld.world import BASE_MIX, PROMPT, VERSION, build_splits, problem

RECIPE: dict[str, Any] = {
    "world_version": VERSION,
    "seed": 0,
    "steps": 1600,
    "batch_size": 96,
    "threads": 1,  # one CPU thread: deterministic, and no thread contention on a shared machine
    "lr": 3e-3,
    "warmup": 100,
    "weight_decay": 0.01,
    "betas": [0.9, 0.98],
    "grad_clip": 1.0,
    "model": {
        "hidden_size": 128,
        "num_hidden_layers": 4,
        "num_attention_heads": 2,
        "num_key_value_heads": 2,
        "intermediate_size": 512,
        "max_position_embeddings": 64,
    },
    "mix": BASE_MIX,
}
SPECIAL = ["<pad>", "<eos>"]


def recipe_hash(recipe: dict[str, Any] = RECIPE) -> str:
    """sha256 of the base model's training recipe."""
    return hashlib.sha256(json.dumps(recipe, sort_keys=True).encode()).hexdigest()


def text_pair(p: dict) -> tuple[str, str]:
    """A problem as (prompt, completion) text for pretraining."""
    return PROMPT.format(problem=p["problem"]), " " + p["solution"]


def _byte_level_map() -> dict[str, str]:
    """GPT-2's bytes-to-unicode table: what a byte-level BPE vocabulary writes a character as (space -> Ġ)."""
    bs = (
        list(range(ord("!"), ord("~") + 1))
        + list(range(ord("¡"), ord("¬") + 1))
        + list(range(ord("®"), ord("ÿ") + 1))
    )
    cs, n = bs[:], 0
    for b in range(256):
        if b not in bs:
            bs.append(b)
            cs.append(256 + n)
            n += 1
    return {chr(b): chr(c) for b, c in zip(bs, cs, strict=True)}


def build_tokenizer():
    """A character-level tokenizer written as a byte-level BPE without merges.

    Byte-level form matters: transformers 5 loads any Qwen2 checkpoint's tokenizer as ``Qwen2Tokenizer``,
    which re-applies byte-level pre-tokenization; a plain character vocabulary would lose its spaces there.
    """
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers
    from transformers import PreTrainedTokenizerFast

    chars = set("0123456789")
    for split in build_splits(0).values():
        for p in split:
            chars.update("".join(text_pair(p)))
    m = _byte_level_map()
    vocab = {tok: i for i, tok in enumerate(SPECIAL + sorted(m[c] for c in chars))}
    tok = Tokenizer(models.BPE(vocab=vocab, merges=[]))
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=False)
    tok.decoder = decoders.ByteLevel()
    return PreTrainedTokenizerFast(
        tokenizer_object=tok,
        pad_token="<pad>",
        eos_token="<eos>",
        model_max_length=RECIPE["model"]["max_position_embeddings"],
    )


def _reloaded(tok, model, out_dir: Path):
    """Save, then load the tokenizer the way every consumer will (AutoTokenizer); refuse any drift."""
    from transformers import AutoTokenizer

    out_dir.mkdir(parents=True, exist_ok=True)
    tok.save_pretrained(out_dir)
    model.config.save_pretrained(out_dir)
    loaded = AutoTokenizer.from_pretrained(out_dir)
    for p in build_splits(0)["val"]:
        s = "".join(text_pair(p))
        if (
            loaded(s, add_special_tokens=False)["input_ids"] != tok(s, add_special_tokens=False)["input_ids"]
            or loaded.decode(loaded(s, add_special_tokens=False)["input_ids"]) != s
        ):
            raise RuntimeError(f"tokenizer does not round-trip through AutoTokenizer on {s!r}")
    return loaded


def _batch(tok, problems: list[dict], device):
    import torch

    ids, labels = [], []
    for p in problems:
        prompt, completion = text_pair(p)
        a = tok(prompt, add_special_tokens=False)["input_ids"]
        b = tok(completion, add_special_tokens=False)["input_ids"] + [tok.eos_token_id]
        ids.append(a + b)
        labels.append([-100] * len(a) + b)  # loss on the answer only
    n = max(map(len, ids))
    pad = tok.pad_token_id
    x = torch.tensor([s + [pad] * (n - len(s)) for s in ids], device=device)
    y = torch.tensor([s + [-100] * (n - len(s)) for s in labels], device=device)
    return x, y, (x != pad).long()


def accuracy_by_type(
    model, tok, problems: list[dict], batch_size: int = 512, key=lambda p: p["type"]
) -> dict[str, float]:
    """Greedy exact-match accuracy per problem type, or per ``key`` (a quick check; evaluations use statbench eval)."""
    import torch

    tok.padding_side = "left"
    hits: dict[str, list[int]] = {}
    for i in range(0, len(problems), batch_size):
        chunk = problems[i : i + batch_size]
        enc = tok(
            [text_pair(p)[0] for p in chunk], return_tensors="pt", padding=True, add_special_tokens=False
        )
        with torch.inference_mode():
            out = model.generate(
                **enc,
                max_new_tokens=12,
                do_sample=False,
                pad_token_id=tok.pad_token_id,
                eos_token_id=tok.eos_token_id,
            )
        for p, row in zip(chunk, out[:, enc["input_ids"].shape[1] :], strict=True):
            hits.setdefault(key(p), []).append(
                int(tok.decode(row, skip_special_tokens=True).strip() == p["solution"])
            )
    return {k: sum(v) / len(v) for k, v in sorted(hits.items())}


def pretrain(out_dir: Path, recipe: dict[str, Any] = RECIPE, log=print) -> dict[str, Any]:
    """Train the skill world's base model from ``recipe`` into ``out_dir``; returns its summary."""
    import torch
    from transformers import GenerationConfig, Qwen2Config, Qwen2ForCausalLM

    torch.manual_seed(recipe["seed"])
    torch.set_num_threads(recipe.get("threads", torch.get_num_threads()))
    torch.use_deterministic_algorithms(True, warn_only=True)
    tok = build_tokenizer()
    cfg = Qwen2Config(
        vocab_size=len(tok),
        tie_word_embeddings=True,
        eos_token_id=tok.eos_token_id,
        pad_token_id=tok.pad_token_id,
        bos_token_id=None,
        **recipe["model"],
    )
    model = Qwen2ForCausalLM(cfg)
    out_dir = Path(out_dir)
    tok = _reloaded(tok, model, out_dir)
    model.generation_config = GenerationConfig(eos_token_id=tok.eos_token_id, pad_token_id=tok.pad_token_id)
    opt = torch.optim.AdamW(
        model.parameters(), lr=recipe["lr"], betas=tuple(recipe["betas"]), weight_decay=recipe["weight_decay"]
    )
    steps, warm = recipe["steps"], recipe["warmup"]
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / warm) * 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps))
    )
    rng = random.Random(f"pretrain-{recipe['seed']}")
    names = list(recipe["mix"])
    t0 = time.perf_counter()
    model.train()
    for step in range(steps):
        types = rng.choices(names, [recipe["mix"][k] for k in names], k=recipe["batch_size"])
        x, y, mask = _batch(tok, [problem(rng, t, "pt") for t in types], "cpu")
        loss = model(input_ids=x, attention_mask=mask, labels=y).loss
        opt.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(model.parameters(), recipe["grad_clip"])
        opt.step()
        sched.step()
        if step % 200 == 0 or step == steps - 1:
            log(f"pretrain step {step + 1}/{steps} loss {loss.item():.4f} ({time.perf_counter() - t0:.0f}s)")
    model.eval()
    model.save_pretrained(out_dir)
    tok.save_pretrained(out_dir)
    splits = build_splits(0)
    acc = accuracy_by_type(model, tok, splits["val"])
    by_template = accuracy_by_type(model, tok, splits["test"], key=lambda p: f"{p['type']}@{p['template']}")
    meta = {
        "recipe": recipe,
        "recipe_hash": recipe_hash(recipe),
        "weights_sha256": weights_sha256(out_dir),
        "val_accuracy_by_type": acc,
        "test_accuracy_by_type_and_template": by_template,
        "train_seconds": round(time.perf_counter() - t0, 1),
        "torch": torch.__version__,
        "rebuild": "statbench skillworld pretrain DIR --seed 0",
    }
    (out_dir / "recipe.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")
    return meta


def weights_sha256(model_dir: Path) -> str:
    """sha256 of a model directory's ``model.safetensors``."""
    return hashlib.sha256((Path(model_dir) / "model.safetensors").read_bytes()).hexdigest()


def verify(model_dir: Path) -> dict[str, Any]:
    """Check the committed base against its recipe: the recipe hash and the weights' sha256."""
    from harness.core.errors import SpecError

    path = Path(model_dir) / "recipe.json"
    if not path.is_file():
        raise SpecError(f"{path}: missing; rebuild the base with `statbench skillworld pretrain {model_dir}`")
    meta = json.loads(path.read_text())
    if meta["recipe_hash"] != recipe_hash():
        raise SpecError(
            f"{model_dir}: built from another recipe ({meta['recipe_hash'][:12]} != {recipe_hash()[:12]}); "
            f"rebuild it with `statbench skillworld pretrain {model_dir}`"
        )
    got = weights_sha256(model_dir)
    if got != meta["weights_sha256"]:
        raise SpecError(
            f"{model_dir}/model.safetensors: sha256 {got[:12]} does not match recipe.json "
            f"({meta['weights_sha256'][:12]}); restore it (git checkout) or rebuild it"
        )
    return meta
