"""Recommendation quality of ``/v1/recommend`` ("more like this") for a ternary student and its teacher.

Usage: ``python benchmarks/recommend_quality.py --out benchmarks/results/recommend_text LABEL=MODEL ...``

The catalogue is the held-out half of the Linux kernel documentation sections (Debian ``linux-doc``;
never in the training corpus), one item per section, its category the top-level documentation folder
(``networking``, ``filesystems``, ...); categories with fewer than ``--min-per-category`` items, loose
top-level files and the translations folder are left out. Each model indexes the catalogue (``ternembed index``, exact ``faiss-flat`` search, so the score is
the embeddings' and not the ANN's) and serves it with ``ternembed serve``; for a fixed sample of seed
items, ``POST /v1/recommend`` with the seed as the only positive returns 10 items (never the seed), and
precision@10 is the share of them in the seed's category. Latency is per request on the client.
Writes ``recommend.json`` and ``recommend.md`` to ``--out``; the catalogue and indexes go to ``--work``.
"""

from __future__ import annotations

import argparse
import json
import random
import statistics
import sys
import time
from collections import Counter
from pathlib import Path

BODY_CHARS = 1500
"""Characters of a section's text indexed (its title first)."""
EXCLUDED_CATEGORIES = ("top", "translations")
"""Not topics: loose top-level files, and translations of other folders into other languages."""


def build_catalogue(path: Path, min_per_category: int, max_items: int, seed: int) -> list[dict]:
    """Held-out kernel documentation sections as ``{id, text, category}`` records, written to ``path``."""
    from ternembed.data.manuals import is_held_out, kernel_sections

    sections = [s for s in kernel_sections() if is_held_out(s.key) and len(s.body) >= 200]
    counts = Counter(s.group for s in sections)
    sections = [s for s in sections if counts[s.group] >= min_per_category and s.group not in EXCLUDED_CATEGORIES]
    random.Random(seed).shuffle(sections)
    records = [{"id": s.key, "text": f"{s.title}\n{s.body[:BODY_CHARS]}", "category": s.group}
               for s in sections[:max_items]]  # fmt: skip
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")
    return records


def measure(label: str, model: str, catalogue: Path, records: list[dict], seeds: list[str], work: Path,
            threads: int) -> dict:  # fmt: skip
    import httpx

    from ternembed.cli.main import main as cli
    from ternembed.perf.serve_load import ServerProcess, ServerSpec

    index = work / f"index-{label}"
    if not (index / "index_config.json").is_file():
        assert cli(["index", model, "--corpus", str(catalogue), "--out", str(index), "--backend", "faiss-flat"]) == 0
    category = {r["id"]: r["category"] for r in records}
    server = ServerProcess(ServerSpec(label, model, True, (("catalogue", str(index)),)), threads)
    precisions, latencies = [], []
    try:
        with httpx.Client(base_url=server.url, timeout=60) as http:
            for seed_id in seeds:
                began = time.perf_counter()
                response = http.post("/v1/recommend", json={"index": "catalogue", "positive": [seed_id], "k": 10})
                latencies.append((time.perf_counter() - began) * 1e3)
                response.raise_for_status()
                results = response.json()["results"]
                ids = [hit["id"] for hit in results]
                assert seed_id not in ids and len(ids) == 10, (seed_id, ids)
                precisions.append(sum(category[i] == category[seed_id] for i in ids) / 10)
    finally:
        server.stop()
    ordered = sorted(latencies)
    return {"label": label, "model": model, "precision_at_10": statistics.mean(precisions),
            "p50_ms": statistics.median(latencies), "p99_ms": ordered[int(round(0.99 * (len(ordered) - 1)))],
            "requests": len(seeds)}  # fmt: skip


def markdown(result: dict) -> str:
    reference = result["models"][0]
    lines = [f"# /v1/recommend on the kernel-documentation catalogue ({result['items']} items, "
             f"{result['categories']} categories, {result['seeds']} seed items)", "",
             "| model | precision@10 | % of the first | p50 ms | p99 ms |", "|---|---:|---:|---:|---:|"]  # fmt: skip
    for row in result["models"]:
        kept = 100 * row["precision_at_10"] / reference["precision_at_10"]
        lines.append(f"| {row['label']} | {row['precision_at_10']:.4f} | {kept:.1f}% | {row['p50_ms']:.2f} | "
                     f"{row['p99_ms']:.2f} |")  # fmt: skip
    lines += ["", f"Command: `{result['command']}`"]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("models", nargs="+", metavar="LABEL=MODEL", help="the first is the reference (the teacher)")
    parser.add_argument("--out", type=Path, required=True)
    parser.add_argument("--seeds", type=int, default=300, help="seed items (one request each)")
    parser.add_argument("--min-per-category", type=int, default=30)
    parser.add_argument("--max-items", type=int, default=3000)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--work", type=Path, default=Path("runs/recommend_quality"),
                        help="folder for the catalogue and the indexes (kept, so a rerun reuses them)")  # fmt: skip
    args = parser.parse_args()
    catalogue = args.work / "catalogue.jsonl"
    records = build_catalogue(catalogue, args.min_per_category, args.max_items, seed=0)
    seeds = [r["id"] for r in random.Random(1).sample(records, min(args.seeds, len(records)))]
    rows = []
    for pair in args.models:
        label, _, model = pair.partition("=")
        rows.append(measure(label, model, catalogue, records, seeds, args.work, args.threads))
        print(json.dumps(rows[-1]), flush=True)
    result = {"items": len(records), "categories": len({r["category"] for r in records}), "seeds": len(seeds),
              "threads": args.threads, "models": rows,
              "command": "python benchmarks/recommend_quality.py " + " ".join(sys.argv[1:])}  # fmt: skip
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "recommend.json").write_text(json.dumps(result, indent=2) + "\n")
    (args.out / "recommend.md").write_text(markdown(result))
    print(markdown(result))


if __name__ == "__main__":
    main()
