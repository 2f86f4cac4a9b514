"""Build a tiny Qwen2-style model and tokenizer locally (no downloads): ``statbench make-tiny-model DIR``.

The tokenizer is a byte-level BPE trained on the spot on generated arithmetic text plus problems from the
bundled benchmarks; the chat template is ChatML with ``{% generation %}`` markers (TRL's
``assistant_only_loss`` needs them). head_dim is 64 so vLLM's CPU attention accepts the model. Everything
is seeded: the same seed gives byte-identical weights and tokenizer.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

CHAT_TEMPLATE = (
    "{% for message in messages %}{% if message['role'] == 'assistant' %}{{ '<|im_start|>assistant\\n' }}"
    "{% generation %}{{ message['content'] + '<|im_end|>' }}{% endgeneration %}{{ '\\n' }}"
    "{% else %}{{ '<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>\\n' }}"
    "{% endif %}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}"
)
SPECIAL = ["<|endoftext|>", "<|im_start|>", "<|im_end|>", "<|pad|>"]


def _corpus(seed: int, n_arith: int = 3000, n_problems: int = 400) -> list[str]:
    rng = random.Random(seed)
    lines = []
    for _ in range(n_arith):
        a, b = rng.randint(0, 999), rng.randint(0, 999)
        op = rng.choice(["+", "-", "\\times", "/"])
        lines.append(f"Compute ${a} {op} {b}$. The answer is $\\boxed{{{a + b if op == '+' else a - b}}}$.")
    try:
        from harness.core.tasks import load_benchmark

        rows = load_benchmark("math500") + load_benchmark("gsm8k")
        lines += [r["problem"] for r in rng.sample(rows, min(n_problems, len(rows)))]
    except Exception:  # noqa: BLE001 - the corpus only shapes the vocabulary; arithmetic alone is fine
        pass
    return lines


def build_tiny_model(
    out_dir: Path,
    seed: int = 0,
    vocab_size: int = 2048,
    hidden_size: int = 128,
    layers: int = 2,
    max_positions: int = 2048,
) -> Path:
    """Write a tiny causal LM (config, safetensors weights, tokenizer, chat template) to ``out_dir``."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen2Config, Qwen2ForCausalLM

    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    tok = Tokenizer(models.BPE())
    tok.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    tok.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=vocab_size,
        special_tokens=SPECIAL,
        initial_alphabet=pre_tokenizers.ByteLevel.alphabet(),
        show_progress=False,
    )
    tok.train_from_iterator(_corpus(seed), trainer=trainer)
    hf_tok = PreTrainedTokenizerFast(
        tokenizer_object=tok,
        eos_token="<|im_end|>",
        pad_token="<|pad|>",
        bos_token=None,
        model_max_length=max_positions,
    )
    hf_tok.chat_template = CHAT_TEMPLATE
    hf_tok.save_pretrained(out_dir)

    torch.manual_seed(seed)
    eos, pad = hf_tok.convert_tokens_to_ids("<|im_end|>"), hf_tok.convert_tokens_to_ids("<|pad|>")
    cfg = Qwen2Config(
        vocab_size=len(hf_tok),
        hidden_size=hidden_size,
        intermediate_size=2 * hidden_size,
        num_hidden_layers=layers,
        num_attention_heads=hidden_size // 64,
        num_key_value_heads=1,
        max_position_embeddings=max_positions,
        tie_word_embeddings=True,
        eos_token_id=eos,
        pad_token_id=pad,
        bos_token_id=None,
    )
    model = Qwen2ForCausalLM(cfg)
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad)
    model.save_pretrained(out_dir)
    (out_dir / "statbench_tiny.json").write_text(
        json.dumps(
            {
                "builder": "harness.tinymodel.build_tiny_model",
                "seed": seed,
                "vocab_size": len(hf_tok),
                "hidden_size": hidden_size,
                "layers": layers,
                "max_positions": max_positions,
            },
            indent=2,
        )
        + "\n"
    )
    return out_dir
