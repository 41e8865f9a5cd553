"""bench.json -> Markdown tables, the speed-ups of the ternary model over each baseline and a PNG chart."""

from __future__ import annotations

from pathlib import Path

BASELINES = ("torch-fp32", "torch-bf16", "torch-int8", "ort-int8", "ort-int8-per-channel", "openvino-fp32",
             "openvino-int8")


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


def speedups(result: dict, variant: str = "ternary") -> list[dict]:
    """Per shape, ``variant``'s speed-up over each baseline measured at that shape (baseline ms / its ms)."""
    rows = []
    for row in result["rows"]:
        if row["variant"] != variant:
            continue
        shape = (row["batch_size"], row["seq_len"])
        over = {}
        for baseline in BASELINES:
            other = _row(result, baseline, *shape)
            if other is not None:
                over[baseline] = other["median_ms"] / row["median_ms"]
        rows.append(
            {"batch_size": shape[0], "seq_len": shape[1], "median_ms": row["median_ms"], "speedup": over}
        )
    return rows


def footprint_ratios(result: dict, variant: str = "ternary") -> dict[str, dict[str, float]]:
    """``variant``'s weight bytes and peak RSS divided by each measured baseline's."""
    variants = _per_variant(result)
    if variant not in variants:
        return {}
    ours = variants[variant]
    return {
        baseline: {
            "weights": ours["weights_bytes"] / variants[baseline]["weights_bytes"],
            "peak_rss": ours["peak_rss_mb"] / variants[baseline]["peak_rss_mb"],
        }
        for baseline in BASELINES
        if baseline in variants
    }


def speedup_lines(result: dict) -> list[str]:
    """One line per shape: ``1x32: ternary 1.80 ms; 5.56x torch-fp32, 1.39x ort-int8``."""
    return [
        f"{row['batch_size']}x{row['seq_len']}: ternary {row['median_ms']:.2f} ms; "
        + ", ".join(f"{ratio:.2f}x {baseline}" for baseline, ratio in row["speedup"].items())
        for row in speedups(result)
    ]


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
    faster = speedups(result)
    baselines = [b for b in BASELINES if any(b in row["speedup"] for row in faster)]
    if faster and baselines:
        lines += [
            "",
            "Speed-up of the ternary model over each baseline (baseline median ms / ternary median ms):",
            "",
            "| batch x tokens | ternary ms | " + " | ".join(baselines) + " |",
            "|---|---:|" + "---:|" * len(baselines),
        ]
        for row in faster:
            cells = [f"{row['speedup'][b]:.2f}x" if b in row["speedup"] else "" for b in baselines]
            lines.append(
                f"| {row['batch_size']}x{row['seq_len']} | {row['median_ms']:.2f} | "
                + " | ".join(cells)
                + " |"
            )
    footprint = footprint_ratios(result)
    if footprint:
        lines += ["", "| ternary / baseline | weights | peak RSS |", "|---|---:|---:|"]
        for baseline, ratio in footprint.items():
            lines.append(f"| {baseline} | {ratio['weights']:.2f} | {ratio['peak_rss']:.2f} |")
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
