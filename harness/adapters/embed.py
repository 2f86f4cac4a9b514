"""Question embeddings for Embed-Sel / Embed-Syn (paper: Alibaba-NLP/gte-Qwen2-7B-instruct, top 5).

``hashing``: a local, model-free embedding (TF-IDF over hashed character 3-5-grams), for CPU runs and tests.
Any checkpoint path: mean-pooled last hidden states of that model (GPU recommended for 7B).
"""

from __future__ import annotations

from typing import Any

import numpy as np


def embed(texts: list[str], model: str, batch_size: int = 16) -> np.ndarray:
    """L2-normalised embeddings, one row per text."""
    if model == "hashing":
        from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer

        x = HashingVectorizer(
            analyzer="char_wb", ngram_range=(3, 5), n_features=2**18, alternate_sign=False
        ).transform(texts)
        x = TfidfTransformer().fit_transform(x)
        return x  # sparse, rows already l2-normalised
    import torch
    from transformers import AutoModel, AutoTokenizer

    device = "cuda" if torch.cuda.is_available() else "cpu"
    tok = AutoTokenizer.from_pretrained(model)
    net = (
        AutoModel.from_pretrained(model, dtype=torch.bfloat16 if device == "cuda" else torch.float32)
        .to(device)
        .eval()
    )
    out = []
    with torch.inference_mode():
        for i in range(0, len(texts), batch_size):
            enc = tok(
                texts[i : i + batch_size], padding=True, truncation=True, max_length=512, return_tensors="pt"
            ).to(device)
            h = net(**enc).last_hidden_state
            m = enc["attention_mask"].unsqueeze(-1).to(h.dtype)
            v = (h * m).sum(1) / m.sum(1)
            out.append(torch.nn.functional.normalize(v.float(), dim=-1).cpu().numpy())
    return np.concatenate(out) if out else np.zeros((0, 1))


def top_k(queries: list[str], corpus: list[str], k: int, model: str) -> list[list[int]]:
    """Indices of the k most similar corpus texts per query (cosine; ties by index)."""
    e = embed(queries + corpus, model)
    q, c = e[: len(queries)], e[len(queries) :]
    sims = q @ c.T
    sims = sims.toarray() if hasattr(sims, "toarray") else np.asarray(sims)
    return [list(np.lexsort((np.arange(len(row)), -row))[:k]) for row in sims]


def nearest_pool(difficult: list[dict[str, Any]], pool: dict[str, dict], embed_spec) -> list[list[str]]:
    """Per difficult question, the ids of its ``embed_spec.top_k`` most similar pool questions (ties: smaller id)."""
    ids = sorted(pool)
    hits = top_k(
        [d["problem"] for d in difficult],
        [pool[i]["problem"] for i in ids],
        embed_spec.top_k,
        embed_spec.model,
    )
    return [[ids[j] for j in row] for row in hits]
