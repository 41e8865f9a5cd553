"""bench-ann results as JSON, Markdown tables, the headline ratios and a recall/QPS Pareto PNG."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from ternembed.index.metrics import bootstrap_ratio_interval

HNSW_BACKEND = "faiss-hnsw"
"""The graph backend whose float32 index is compared with exact search of the reference model."""
INTERVAL_LEVEL = 0.95
"""Coverage of the bootstrap interval reported with that comparison."""
CURVE_STYLES = {
    ("float32", "none"): ("-", "o"),
    ("int8", "none"): ("--", "x"),
    ("int8", "codes"): ("--", "s"),
    ("binary", "none"): (":", "x"),
    ("binary", "codes"): (":", "s"),
    ("binary", "int8"): ("-.", "^"),
    ("binary", "float32"): ("-.", "v"),
    ("int8", "float32"): ("-.", "v"),
}
"""(precision, rescored from) -> (line style, marker) in the Pareto plot; colour is the backend."""


def write_report(
    report: dict[str, Any], out: str | os.PathLike, command: str | None = None
) -> dict[str, Path]:
    """Write ``ann_bench.json``, ``ann_bench.md`` and ``ann_pareto.png`` into folder ``out``.

    Adds ``ratios`` (see :func:`headline_ratios`) and ``command`` to ``report`` in place.
    """
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    report["ratios"] = headline_ratios(report)
    if command:
        report["command"] = command
    paths = {"json": out / "ann_bench.json", "markdown": out / "ann_bench.md", "plot": out / "ann_pareto.png"}
    paths["json"].write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")
    paths["markdown"].write_text(markdown(report, paths["plot"].name), encoding="utf-8")
    plot_pareto(report, paths["plot"])
    return paths


def _config(entry: dict[str, Any], backend: str, precision: str) -> dict[str, Any] | None:
    """The configuration of ``entry`` searching ``backend`` at ``precision`` without rescoring."""
    for config in entry["configs"]:
        if (config["backend"], config["precision"], config["rescore"]) == (backend, precision, 0):
            return config
    return None


def config_label(config: dict[str, Any]) -> str:
    """``faiss-hnsw binary +rescore 40 (int8 on disk)``-style name of a measured configuration."""
    label = f"{config['backend']} {config['precision']}"
    if config["rescore"]:
        label += f" +rescore {config['rescore']}"
        if config["rescore_from"] != "codes":
            label += f" ({config['rescore_from']} on disk)"
    return label


def _point_at(config: dict[str, Any], params: dict[str, Any]) -> dict[str, Any]:
    return next((point for point in config["points"] if point["params"] == params), config["summary_point"])


def headline_ratios(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The report's key comparisons, each a ``ratio`` with what it compares and how it was measured.

    - nDCG@k of the model on float32 HNSW (its sweep's most accurate point) / the reference's exact
      nDCG@k (the baseline's, else the model's own), with a paired bootstrap ``interval`` over the
      task's queries when the report kept per-query nDCG;
    - for every int8/binary index with rescoring: its nDCG@k / float32's on the same backend at
      float32's summary parameters, with ``memory_ratio`` (float32 index bytes / this index's bytes);
    - end-to-end query latency of the model / the baseline's (median, encode + search).
    """
    k = report["k"]
    ndcg = f"ndcg_at_{k}"
    models = {entry["role"]: entry for entry in report["models"]}
    model, baseline = models["model"], models.get("baseline")
    reference = baseline or model
    ratios = []
    hnsw = _config(model, HNSW_BACKEND, "float32")
    if hnsw is not None:
        point = max(hnsw["points"], key=lambda point: (point[ndcg], point["qps"]))
        comparison = {
            "comparison": f"nDCG@{k} of {model['name']} + {HNSW_BACKEND} / {reference['name']} + exact search",
            "ratio": point[ndcg] / reference["exact"][ndcg],
            "detail": f"{point[ndcg]:.4f} at {point['params']} (the sweep's most accurate point, "
            f"{point['qps']:.0f} QPS{_speedup_over_exact(model, point)}) vs {reference['exact'][ndcg]:.4f}",
        }
        per_query = f"per_query_{ndcg}"
        if per_query in point and per_query in reference["exact"]:
            low, high = bootstrap_ratio_interval(
                point[per_query], reference["exact"][per_query], INTERVAL_LEVEL
            )
            comparison["interval"] = [low, high]
            comparison["detail"] += (
                f"; {INTERVAL_LEVEL:.0%} bootstrap interval over the {len(point[per_query])} queries "
                f"{low:.1%}-{high:.1%}"
            )
        ratios.append(comparison)
    for entry in report["models"]:
        ratios += _quantized_ratios(entry, k)
    if baseline is not None and model["latency_ms"] and baseline["latency_ms"]:
        ratios.append(
            {
                "comparison": f"end-to-end query latency of {model['name']} / {baseline['name']}",
                "ratio": model["latency_ms"]["end_to_end_median"]
                / baseline["latency_ms"]["end_to_end_median"],
                "detail": f"{model['latency_ms']['end_to_end_median']:.2f} ms vs "
                f"{baseline['latency_ms']['end_to_end_median']:.2f} ms (median, encode + search)",
            }
        )
    return ratios


def _speedup_over_exact(entry: dict[str, Any], point: dict[str, Any]) -> str:
    """``, 4.0x exact faiss-flat`` when ``entry`` measured exact flat search, else nothing."""
    flat = _config(entry, "faiss-flat", "float32")
    if flat is None:
        return ""
    return f", {point['qps'] / flat['summary_point']['qps']:.1f}x exact faiss-flat"


def _quantized_ratios(entry: dict[str, Any], k: int) -> list[dict[str, Any]]:
    """int8/binary with rescoring vs float32 of the same model and backend, at float32's summary parameters."""
    ndcg = f"ndcg_at_{k}"
    ratios = []
    for config in entry["configs"]:
        float_config = _config(entry, config["backend"], "float32")
        if config["precision"] == "float32" or config["rescore"] == 0 or float_config is None:
            continue
        float_point = float_config["summary_point"]
        point = _point_at(config, float_point["params"])
        memory = config["memory_ratio_vs_float32"]
        on_disk = config["rescore_bytes_per_vector"]
        ratios.append(
            {
                "comparison": f"nDCG@{k} of {entry['name']}: {config_label(config)} / float32",
                "ratio": point[ndcg] / float_point[ndcg],
                "memory_ratio": memory,
                "detail": f"{point[ndcg]:.4f} vs {float_point[ndcg]:.4f} at {point['params']}; index memory "
                f"{memory:.1f}x less (codes {4 * entry['dimension'] / config['code_bytes_per_vector']:.0f}x)"
                + (f"; plus {on_disk} B/vector on disk" if on_disk else ""),
            }
        )
    return ratios


def _table(header: list[str], rows: list[list[Any]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(str(cell) for cell in row) + " |" for row in rows]
    return lines


def _rescore_cell(config: dict[str, Any]) -> str:
    if not config["rescore"]:
        return "-"
    return f"{config['rescore']}" + (
        f" from {config['rescore_from']} on disk" if config["rescore_from"] != "codes" else ""
    )


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{name}={value}" for name, value in params.items()) or "exact"


def markdown(report: dict[str, Any], plot_name: str) -> str:
    """The report as Markdown: models, summary operating points, ratios, every operating point."""
    k = report["k"]
    env = report["environment"]
    lines = [
        f"# ANN benchmark: {report['task']}",
        "",
        f"{report['corpus_size']} documents, {report['query_count']} queries, k={k}. {env['date']}; "
        f"{env['processor']}, {env['cpu_count']} CPUs, torch threads {env['torch_threads']}, "
        f"faiss {env['faiss']}, usearch {env['usearch']}. QPS: one query per call.",
        "",
    ]
    if report.get("command"):
        lines += ["```", report["command"], "```", ""]
    lines += ["## Models: exact search and end-to-end latency", ""]
    rows = []
    for entry in report["models"]:
        latency = entry["latency_ms"]
        rows.append(
            [
                entry["name"],
                entry["role"],
                entry["dimension"],
                f"{entry['exact'][f'ndcg_at_{k}']:.4f}",
                f"{entry['exact'][f'recall_at_{k}']:.4f}",
                f"{report['corpus_size'] / entry['corpus_encode_s']:.0f}",
                f"{latency['encode_median']:.2f}" if latency else "-",
                f"{latency['search_median']:.3f}" if latency else "-",
                f"{latency['end_to_end_median']:.2f} / {latency['end_to_end_p90']:.2f}" if latency else "-",
            ]
        )
    lines += _table(
        [
            "model",
            "role",
            "dim",
            f"exact nDCG@{k}",
            f"exact Recall@{k}",
            "corpus docs/s",
            "query encode ms",
            "search ms",
            "end-to-end ms (median / p90)",
        ],
        rows,
    )
    lines += [
        "",
        "Latency: one query at a time, encode + search on faiss-hnsw float32 at its default efSearch; "
        "the models take turns query by query.",
        "",
        "## Indexes at the summary operating point",
        "",
        "Fastest point reaching k-NN recall >= 0.95 against exact search of the same model (else the most accurate). "
        "Memory ratio: serialized float32 index bytes / this index's bytes, same backend. "
        "Disk: rescoring vectors kept on disk and memory-mapped (only candidates' rows are read).",
        "",
    ]
    rows = []
    for entry in report["models"]:
        for config in entry["configs"]:
            point = config["summary_point"]
            ratio = config["memory_ratio_vs_float32"]
            rows.append(
                [
                    entry["name"],
                    config["backend"],
                    config["precision"],
                    _rescore_cell(config),
                    _params(point["params"]),
                    f"{config['build_s']:.2f}",
                    config["code_bytes_per_vector"],
                    f"{config['index_bytes_per_vector']:.0f}",
                    config["rescore_bytes_per_vector"] or "-",
                    f"{ratio:.1f}x" if ratio else "-",
                    f"{point['knn_recall']:.3f}",
                    f"{point[f'ndcg_at_{k}']:.4f}",
                    f"{point[f'recall_at_{k}']:.4f}",
                    f"{point['qps']:.0f}",
                ]
            )
    lines += _table(
        [
            "model",
            "backend",
            "precision",
            "rescore",
            "params",
            "build s",
            "code B/vec",
            "index B/vec",
            "disk B/vec",
            "memory vs f32",
            f"kNN recall@{k}",
            f"nDCG@{k}",
            f"Recall@{k}",
            "QPS",
        ],
        rows,
    )
    lines += ["", "## Ratios", ""]
    lines += _table(
        ["comparison", "ratio", "detail"],
        [[r["comparison"], f"{r['ratio']:.3f}", r["detail"]] for r in report.get("ratios", [])],
    )
    lines += ["", f"![recall vs QPS]({plot_name})", "", "## Every operating point", ""]
    rows = [
        [
            entry["name"],
            config["backend"],
            config["precision"],
            _rescore_cell(config),
            _params(point["params"]),
            f"{point['knn_recall']:.3f}",
            f"{point[f'ndcg_at_{k}']:.4f}",
            f"{point[f'recall_at_{k}']:.4f}",
            f"{point['qps']:.0f}",
        ]
        for entry in report["models"]
        for config in entry["configs"]
        for point in config["points"]
    ]
    lines += _table(
        [
            "model",
            "backend",
            "precision",
            "rescore",
            "params",
            f"kNN recall@{k}",
            f"nDCG@{k}",
            f"Recall@{k}",
            "QPS",
        ],
        rows,
    )
    return "\n".join(lines) + "\n"


def pareto_frontier(points: list[tuple[float, float]]) -> list[tuple[float, float]]:
    """Points not beaten on both quality (x) and speed (y), by decreasing x (ann-benchmarks' frontier)."""
    frontier, best_speed = [], float("-inf")
    for quality, speed in sorted(points, key=lambda point: (-point[0], -point[1])):
        if speed > best_speed:
            frontier.append((quality, speed))
            best_speed = speed
    return frontier


def plot_pareto(report: dict[str, Any], path: Path) -> None:
    """Recall-vs-QPS (top) and nDCG-vs-QPS (bottom) Pareto curves, one column per model."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    k = report["k"]
    models = report["models"]
    backends = sorted({config["backend"] for entry in models for config in entry["configs"]})
    colors = {backend: plt.get_cmap("tab10")(i) for i, backend in enumerate(backends)}
    rescores = [config["rescore"] for entry in models for config in entry["configs"] if config["rescore"]]
    smallest_rescore = min(rescores, default=0)  # larger candidate counts get hollow markers
    figure, axes = plt.subplots(2, len(models), figsize=(max(11, 7 * len(models)), 12), squeeze=False)
    for column, entry in enumerate(models):
        for row, (metric, label) in enumerate(
            (("knn_recall", f"k-NN recall@{k} vs exact"), (f"ndcg_at_{k}", f"nDCG@{k}"))
        ):
            ax = axes[row][column]
            for config in entry["configs"]:
                frontier = pareto_frontier([(point[metric], point["qps"]) for point in config["points"]])
                name = config_label(config)
                rescored_from = config["rescore_from"] if config["rescore"] else "none"
                linestyle, marker = CURVE_STYLES[(config["precision"], rescored_from)]
                ax.plot(
                    [x for x, _ in frontier],
                    [y for _, y in frontier],
                    linestyle=linestyle,
                    marker=marker,
                    fillstyle="none" if config["rescore"] > smallest_rescore else "full",
                    color=colors[config["backend"]],
                    label=name,
                )
            if metric != "knn_recall":
                ax.axvline(entry["exact"][metric], color="black", linewidth=0.8, label="exact float32")
            ax.set_yscale("log")
            ax.set_xlabel(label)
            ax.set_ylabel("queries per second (one at a time)")
            ax.set_title(f"{entry['name']} ({entry['role']})", fontsize=9)
            ax.grid(True, which="both", alpha=0.3)
    handles, labels = axes[0][0].get_legend_handles_labels()
    figure.legend(handles, labels, loc="lower center", ncol=3, fontsize=7)
    figure.suptitle(f"ANN search on {report['task']}: Pareto frontiers (up and right is better)")
    figure.tight_layout(rect=(0, 0.06 + 0.012 * len(labels) / 3, 1, 1))
    figure.savefig(path, dpi=110)
    plt.close(figure)
