"""bench.json -> Markdown tables, the issue's pass/fail checks and a PNG chart."""

from __future__ import annotations

from pathlib import Path

BASELINES = ("torch-fp32", "torch-bf16", "torch-int8", "ort-int8")


def _row(result: dict, variant: str, batch_size: int, seq_len: int) -> dict | None:
    for row in result["rows"]:
        if (row["variant"], row["batch_size"], row["seq_len"]) == (variant, batch_size, seq_len):
            return row
    return None


def _per_variant(result: dict) -> dict[str, dict]:
    first: dict[str, dict] = {}
    for row in result["rows"]:
        first.setdefault(row["variant"], row)
    return first


def done_checks(result: dict) -> list[tuple[str, bool | None]]:
    """The targets of issue 5, each True / False, or None when a needed row is missing."""
    checks: list[tuple[str, bool | None]] = []
    ours, fp32, ort = (_row(result, v, 1, 32) for v in ("ternary", "torch-fp32", "ort-int8"))
    checks.append(
        (
            "1x32: ternary <= 0.20x torch-fp32 latency",
            ours and fp32 and ours["median_ms"] <= 0.2 * fp32["median_ms"],
        )
    )
    checks.append(
        ("1x32: ternary faster than ort-int8", ours and ort and ours["median_ms"] < ort["median_ms"])
    )
    ours, fp32, bf16 = (_row(result, v, 32, 128) for v in ("ternary", "torch-fp32", "torch-bf16"))
    checks.append(
        (
            "32x128: ternary throughput >= 3.5x torch-fp32",
            ours and fp32 and fp32["median_ms"] >= 3.5 * ours["median_ms"],
        )
    )
    checks.append(
        (
            "32x128: ternary throughput above torch-bf16",
            ours and bf16 and ours["median_ms"] < bf16["median_ms"],
        )
    )
    variants = _per_variant(result)
    if "ternary" in variants:
        others = [variants[v] for v in BASELINES if v in variants]
        ternary = variants["ternary"]
        checks.append(
            ("peak RSS below every baseline", all(ternary["peak_rss_mb"] < o["peak_rss_mb"] for o in others))
        )
        checks.append(
            (
                "weights smaller than every baseline",
                all(ternary["weights_bytes"] < o["weights_bytes"] for o in others),
            )
        )
    return [(name, None if value is None else bool(value)) for name, value in checks]


def write_markdown(result: dict, path: Path) -> None:
    lines = [
        f"# ternembed bench: {result['model']}",
        "",
        f"Baseline `{result['baseline']}`, {result['threads']} threads, median of up to {result['repeats']} "
        f"repeats ({result.get('timing', 'one process per variant')}), CPU: {result['cpu']}. Latency is the model forward on pre-tokenized, unpadded batches "
        "(embeddings, encoder, pooling, normalization); tokenization is the same for every variant and excluded.",
        "",
        "| batch x tokens | variant | median ms | min ms | x fp32 latency | texts/s |",
        "|---|---|---:|---:|---:|---:|",
    ]
    for row in result["rows"]:
        ratio = row.get("latency_vs_fp32")
        lines.append(
            f"| {row['batch_size']}x{row['seq_len']} | {row['variant']} | {row['median_ms']:.2f} | {row['min_ms']:.2f} | "
            f"{'' if ratio is None else f'{ratio:.2f}'} | {row['texts_per_s']:.1f} |"
        )
    lines += [
        "",
        "| variant | load s | weights MB | peak RSS MB | RSS added by the model MB | kernel |",
        "|---|---:|---:|---:|---:|---|",
    ]
    for variant, row in _per_variant(result).items():
        lines.append(
            f"| {variant} | {row['load_s']:.2f} | {row['weights_bytes'] / 2**20:.1f} | {row['peak_rss_mb']:.0f} | "
            f"{row['model_rss_mb']:.0f} | {row.get('kernel', '')} |"
        )
    for variant, reason in result.get("skipped", {}).items():
        lines.append(f"\n{variant} skipped: {reason}")
    lines += ["", "| target (issue 5) | met |", "|---|---|"]
    for name, passed in done_checks(result):
        lines.append(f"| {name} | {'n/a' if passed is None else 'yes' if passed else 'no'} |")
    path.write_text("\n".join(lines) + "\n")


def write_chart(result: dict, path: Path) -> None:
    """Grouped bars: speed-up over torch fp32 per shape and variant."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    shapes = sorted({(r["batch_size"], r["seq_len"]) for r in result["rows"]})
    variants = list(_per_variant(result))
    width = 0.8 / max(len(variants), 1)
    figure, axes = plt.subplots(figsize=(max(6, 1.3 * len(shapes) + 2), 4))
    for index, variant in enumerate(variants):
        heights = []
        for batch_size, seq_len in shapes:
            row = _row(result, variant, batch_size, seq_len)
            heights.append(row.get("speedup_vs_fp32", 0.0) if row else 0.0)
        positions = [i + (index - (len(variants) - 1) / 2) * width for i in range(len(shapes))]
        axes.bar(positions, heights, width, label=variant)
    axes.axhline(1.0, color="black", linewidth=0.8)
    axes.set_xticks(range(len(shapes)), [f"{b}x{s}" for b, s in shapes])
    axes.set_xlabel("batch x tokens")
    axes.set_ylabel("speed-up over torch fp32 (higher is better)")
    axes.set_title(f"{Path(str(result['model'])).name}, {result['threads']} threads")
    axes.legend(fontsize=8)
    figure.tight_layout()
    figure.savefig(path, dpi=120)
    plt.close(figure)
