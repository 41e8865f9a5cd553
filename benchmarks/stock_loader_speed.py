"""Encode speed of a packed folder loaded by stock ``SentenceTransformer(DIR)`` (after ``import ternembed``)
beside ``ternembed.load(DIR)``.

Both run the fused C encoder; ``ternembed.load`` also takes the shortcut through embeddings and pooling
(``io/fast_forward.py``), which a stock ``SentenceTransformer`` does not. Each loader encodes the same
texts at each batch shape; the median of ``--repeats`` timed rounds (after one warm-up) is reported,
with the largest difference between the two loaders' embeddings. Writes ``stock_loader_speed.json``
and ``.md`` to ``--out``.

    python benchmarks/stock_loader_speed.py runs/minilm-ternary --out benchmarks/results/stock_loaders
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import statistics
import time
from pathlib import Path

os.environ.setdefault("HF_HUB_OFFLINE", "1")

import numpy as np  # noqa: E402
import torch  # noqa: E402
from sentence_transformers import SentenceTransformer  # noqa: E402

import ternembed  # noqa: E402
from ternembed.kernels import selected_kernel  # noqa: E402
from ternembed.nn.fused_encoder import FusedEncoderForward  # noqa: E402
from ternembed.workflow import model_activations  # noqa: E402

WORDS = [
    "the",
    "quick",
    "brown",
    "fox",
    "jumps",
    "over",
    "a",
    "lazy",
    "dog",
    "near",
    "river",
    "bank",
    "while",
    "children",
    "play",
    "in",
    "park",
]


def texts_of(count: int, words: int) -> list[str]:
    """``count`` distinct texts of about ``words`` words each."""
    return [" ".join(WORDS[(i + j) % len(WORDS)] for j in range(words)) for i in range(count)]


def median_seconds(model: SentenceTransformer, texts: list[str], batch_size: int, repeats: int) -> float:
    model.encode(texts, batch_size=batch_size)
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        model.encode(texts, batch_size=batch_size)
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def fused(model: SentenceTransformer) -> bool:
    return isinstance(model[0].auto_model.encoder.__dict__.get("forward"), FusedEncoderForward)


def markdown(data: dict, command: str) -> str:
    lines = [
        "# Stock SentenceTransformer vs ternembed.load: encode speed",
        "",
        f"`{command}`",
        "",
        f"Folder `{data['folder']}`, {data['threads']} thread(s), kernel `{data['kernel']}`, {data['machine']}.",
        f"Fused encoder active: stock {data['stock_fused']}, ternembed.load {data['ternembed_fused']}.",
        "",
        "| texts x words | batch | stock texts/s | ternembed.load texts/s | stock / ternembed.load | max abs diff |",
        "|---|---|---|---|---|---|",
    ]
    for row in data["rows"]:
        lines.append(
            f"| {row['texts']} x {row['words']} | {row['batch_size']} | {row['stock_texts_per_s']:.1f} | "
            f"{row['ternembed_texts_per_s']:.1f} | {row['speed_ratio']:.3f} | {row['max_abs_diff']:.2e} |"
        )
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", help="a packed ternembed text-model folder")
    parser.add_argument("--out", type=Path, default=Path("benchmarks/results/stock_loaders"))
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=5)
    parser.add_argument(
        "--shapes", default="1x16:1,32x32:32,64x128:32", help="comma-separated TEXTSxWORDS:BATCH shapes"
    )
    args = parser.parse_args()
    torch.set_num_threads(args.threads)

    stock = SentenceTransformer(args.folder, device="cpu")
    reference = ternembed.load(args.folder, activations=model_activations(stock))  # the stock path's mode
    rows = []
    for shape in args.shapes.split(","):
        size, batch = shape.split(":")
        count, words = (int(part) for part in size.split("x"))
        texts = texts_of(count, words)
        stock_s = median_seconds(stock, texts, int(batch), args.repeats)
        ternembed_s = median_seconds(reference, texts, int(batch), args.repeats)
        difference = np.abs(stock.encode(texts) - reference.encode(texts)).max()
        rows.append(
            {
                "texts": count,
                "words": words,
                "batch_size": int(batch),
                "stock_texts_per_s": count / stock_s,
                "ternembed_texts_per_s": count / ternembed_s,
                "speed_ratio": ternembed_s / stock_s,
                "max_abs_diff": float(difference),
            }
        )
    data = {
        "folder": str(args.folder),
        "threads": args.threads,
        "repeats": args.repeats,
        "kernel": selected_kernel(),
        "machine": f"{platform.processor() or platform.machine()}, {os.cpu_count()} cores",
        "stock_fused": fused(stock),
        "ternembed_fused": fused(reference),
        "rows": rows,
    }
    args.out.mkdir(parents=True, exist_ok=True)
    command = (
        f"python benchmarks/stock_loader_speed.py {args.folder} --out {args.out} --threads {args.threads}"
    )
    (args.out / "stock_loader_speed.json").write_text(json.dumps(data, indent=2) + "\n")
    (args.out / "stock_loader_speed.md").write_text(markdown(data, command))
    print(markdown(data, command))


if __name__ == "__main__":
    main()
