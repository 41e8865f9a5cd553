"""Do ternary codes pay for *output embeddings*? Exact search, float queries against stored codes.

Compares stored document embeddings at float32, int8 (sentence-transformers ``quantize_embeddings``),
ternary {-1, 0, +1} (packed with ternembed's 2-bit and base-3 formats, round-tripped) and binary
(sign bits), on a retrieval task: nDCG@10, Recall@10, k-NN recall@10 vs float32, bytes per vector.
Ternary codes keep the sign of dimensions with ``|x| >= ratio * mean|x|`` (per vector) and zero the rest.

    python benchmarks/ann_ternary_codes.py --model all-MiniLM-L6-v2 --task wordnet-retrieval --out benchmarks/results
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

import numpy as np
import torch

from ternembed.eval.tasks import load_retrieval_data
from ternembed.formats import get_format
from ternembed.index.metrics import knn_recall, ranked_run, retrieval_metrics
from ternembed.index.model_ref import encode_texts, load_model
from ternembed.index.precision import unpack_binary

K = 10


def ternary_codes(vectors: np.ndarray, ratio: float, storage: str) -> tuple[np.ndarray, int]:
    """Unit-norm float vectors of the ternary codes (after a real pack/unpack) and packed bytes per vector."""
    magnitude = np.abs(vectors)
    codes = np.sign(vectors) * (magnitude >= ratio * magnitude.mean(axis=1, keepdims=True))
    layout = get_format(storage)
    packed = layout.pack(torch.from_numpy(codes.astype(np.int8)))
    unpacked = layout.unpack(packed, codes.shape).numpy().astype(np.float32)
    if not np.array_equal(unpacked, codes):
        raise RuntimeError(f"{storage} pack/unpack did not round-trip the embedding codes")
    norms = np.maximum(np.linalg.norm(unpacked, axis=1, keepdims=True), 1e-12)
    return unpacked / norms, packed.numel() / len(vectors)


def int8_codes(vectors: np.ndarray) -> np.ndarray:
    """int8 codes with per-dimension ranges, dequantized the way sentence-transformers rescoring does."""
    from sentence_transformers.util.quantization import quantize_embeddings

    ranges = np.vstack((vectors.min(axis=0), vectors.max(axis=0)))
    codes = quantize_embeddings(vectors, precision="int8", ranges=ranges).astype(np.float32)
    steps = (ranges[1] - ranges[0]) / 255
    return (codes + 128) * steps + ranges[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="all-MiniLM-L6-v2")
    parser.add_argument("--task", default="wordnet-retrieval")
    parser.add_argument("--size", choices=("full", "quick"), default="full")
    parser.add_argument("--out", default="benchmarks/results")
    args = parser.parse_args()

    torch.set_num_threads(1)
    data = load_retrieval_data(args.task, size=args.size)
    doc_ids, query_ids = list(data.corpus), [q for q in data.queries if q in data.qrels]
    model = load_model(args.model)
    docs = encode_texts(model, [data.corpus[d] for d in doc_ids], "document", 64)
    queries = encode_texts(model, [data.queries[q] for q in query_ids], "query", 64)
    dim = docs.shape[1]

    stored = {"float32": (docs, 4 * dim), "int8": (int8_codes(docs), dim)}
    for ratio in (0.5, 0.75, 1.0):
        stored[f"ternary 2bit (ratio {ratio})"] = ternary_codes(docs, ratio, "2bit")
    stored["ternary base3 (ratio 0.75)"] = ternary_codes(docs, 0.75, "base3")
    stored["binary"] = (unpack_binary(np.packbits(docs > 0, axis=1), dim), dim // 8)

    exact = np.argsort(-(queries @ docs.T), axis=1, kind="stable")[:, :K]
    rows = []
    for name, (codes, nbytes) in stored.items():
        scores = queries @ codes.T
        labels = np.argsort(-scores, axis=1, kind="stable")[:, :K]
        top = np.take_along_axis(scores, labels, axis=1)
        metrics = retrieval_metrics(ranked_run(query_ids, labels, top, doc_ids), data.qrels, K)
        rows.append(
            {"codes": name, "bytes_per_vector": nbytes, "knn_recall": knn_recall(labels, exact), **metrics}
        )
    reference = rows[0]["ndcg_at_10"]

    out = Path(args.out)
    out.mkdir(parents=True, exist_ok=True)
    report = {
        "model": args.model,
        "task": args.task,
        "size": args.size,
        "corpus": len(doc_ids),
        "queries": len(query_ids),
        "rows": rows,
    }
    (out / "ann_ternary_codes.json").write_text(json.dumps(report, indent=2) + "\n")
    lines = [
        f"# Output-embedding codes, exact search: {args.model} on {args.task} ({len(doc_ids)} docs, {len(query_ids)} queries)",
        "",
        "| stored codes | bytes/vector | kNN recall@10 vs float | nDCG@10 | kept vs float | Recall@10 |",
        "|---|---|---|---|---|---|",
    ]
    lines += [
        f"| {r['codes']} | {r['bytes_per_vector']:g} | {r['knn_recall']:.3f} | {r['ndcg_at_10']:.4f} | "
        f"{r['ndcg_at_10'] / reference:.1%} | {r['recall_at_10']:.4f} |"
        for r in rows
    ]
    (out / "ann_ternary_codes.md").write_text("\n".join(lines) + "\n")
    print("\n".join(lines))


if __name__ == "__main__":
    main()
