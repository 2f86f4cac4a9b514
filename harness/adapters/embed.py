"""Question embeddings for Embed-Sel / Embed-Syn (paper: Alibaba-NLP/gte-Qwen2-7B-instruct, top 5).

``hashing``: a local, model-free embedding (TF-IDF over hashed character 3-5-grams), for CPU runs and tests.

Any checkpoint path or cached hub id: loaded with transformers as gte-Qwen2-7B-instruct's model card does it:
queries (the difficult questions) get the instruction prefix ``Instruct: {task}\\nQuery: {text}``, the
corpus (pool questions) none; the embedding is the last token's hidden state (``embed.pooling: last``;
``mean`` for mean-pooling checkpoints), L2-normalised. gte-Qwen2 ships its own modeling code, which runs only
with ``embed.trust_remote_code: true`` in the spec (it executes code from the checkpoint). Nothing is ever
downloaded here: the checkpoint must be a directory or in the local Hugging Face cache.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from harness.core.errors import SpecError

REMOTE_CODE_MODELS = ("gte-qwen2",)  # checkpoints whose model card loads them with trust_remote_code


def query_text(text: str, instruction: str | None) -> str:
    """A query as gte-Qwen2's model card writes it: ``Instruct: ...\\nQuery: ...`` (unchanged without one)."""
    return f"Instruct: {instruction}\nQuery: {text}" if instruction else text


def pool_hidden(hidden, attention_mask, pooling: str):
    """One vector per row of ``hidden`` (batch x tokens x dim): the last non-padding token's state (left or
    right padding), or the mean over non-padding tokens."""
    import torch

    if pooling == "mean":
        m = attention_mask.unsqueeze(-1).to(hidden.dtype)
        return (hidden * m).sum(1) / m.sum(1).clamp(min=1)
    if bool((attention_mask[:, -1] == 1).all()):  # left padding (or none): the last position
        return hidden[:, -1]
    last = attention_mask.sum(dim=1) - 1
    return hidden[torch.arange(hidden.shape[0], device=hidden.device), last]


def _check_remote_code(model: str, trust_remote_code: bool) -> None:
    if not trust_remote_code and any(k in model.lower() for k in REMOTE_CODE_MODELS):
        raise SpecError(
            f"embed.model: {model} is loaded with its own modeling code (model card); set "
            "embed.trust_remote_code: true to run it"
        )


def embed(
    texts: list[str],
    model: str,
    batch_size: int = 16,
    *,
    pooling: str = "last",
    trust_remote_code: bool = False,
    max_length: int = 512,
) -> np.ndarray:
    """L2-normalised embeddings, one row per text (texts are used as given: add any query prefix first)."""
    if model == "hashing":
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        x = HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False
        ).transform(texts)
        x = TfidfTransformer().fit_transform(x)
        return x  # sparse, rows already l2-normalised
    _check_remote_code(model, trust_remote_code)
    import torch
    from transformers import AutoModel, AutoTokenizer

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tok = AutoTokenizer.from_pretrained(model, trust_remote_code=trust_remote_code)
    if tok.pad_token is None:
        tok.pad_token = tok.eos_token
    net = (
        AutoModel.from_pretrained(
            model,
            dtype=torch.bfloat16 if device == "cuda" else torch.float32,
            trust_remote_code=trust_remote_code,
        )
        .to(device)
        .eval()
    )
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok(
                texts[i : i + batch_size],
                padding=True,
                truncation=True,
                max_length=max_length,
                return_tensors="pt",
            ).to(device)
            v = pool_hidden(net(**enc).last_hidden_state, enc["attention_mask"], pooling)
            out.append(torch.nn.functional.normalize(v.float(), p=2, dim=-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1))


def similarities(queries: list[str], corpus: list[str], embed_spec) -> np.ndarray:
    """Cosine similarity of every query (with the spec's instruction prefix) to every corpus text."""
    kw: dict[str, Any] = {
        "pooling": getattr(embed_spec, "pooling", "last"),
        "trust_remote_code": getattr(embed_spec, "trust_remote_code", False),
        "max_length": getattr(embed_spec, "max_length", 512),
    }
    if embed_spec.model == "hashing":  # symmetric, model-free: no instruction
        e = embed(queries + corpus, "hashing")
        q, c = e[: len(queries)], e[len(queries) :]
    else:
        instruction = getattr(embed_spec, "query_instruction", None)
        q = embed([query_text(t, instruction) for t in queries], embed_spec.model, **kw)
        c = embed(corpus, embed_spec.model, **kw)
    sims = q @ c.T
    return sims.toarray() if hasattr(sims, "toarray") else np.asarray(sims)


def ranked(sims: np.ndarray, k: int) -> list[list[int]]:
    """Indices of the k most similar corpus texts per query row (ties by index)."""
    return [list(np.lexsort((np.arange(len(row)), -row))[:k]) for row in sims]


def top_k(queries: list[str], corpus: list[str], k: int, model: str) -> list[list[int]]:
    """Indices of the k most similar corpus texts per query (cosine; ties by index), no query prefix."""
    from types import SimpleNamespace

    return ranked(similarities(queries, corpus, SimpleNamespace(model=model, query_instruction=None)), k)


def nearest_pool(
    difficult: list[dict[str, Any]], pool: dict[str, dict], embed_spec, k: int | None = None
) -> list[list[str]]:
    """Per difficult question, the ids of its ``k`` (default ``embed_spec.top_k``) most similar pool
    questions (ties: smaller id)."""
    ids = sorted(pool)
    sims = similarities([d["problem"] for d in difficult], [pool[i]["problem"] for i in ids], embed_spec)
    return [[ids[j] for j in row] for row in ranked(sims, k or embed_spec.top_k)]
