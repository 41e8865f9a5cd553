"""Turn an :class:`~ternembed.eval.runner.EvalReport` into a table, JSON, Markdown and a PNG chart.

Scores are rounded to 4 decimals in the summary so the same input gives byte-identical summaries;
timings (throughput, evaluation time) are reported beside them and naturally vary between runs.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

from ternembed.eval.runner import EvalReport, ModelRun, headline_metrics, main_scores

KEY_METRICS = {
    "image": ("accuracy", "knn_accuracy", "f1"),
    "Retrieval": ("ndcg_at_10", "recall_at_10", "mrr_at_10"),
    "Classification": ("accuracy", "f1"),
    "Clustering": ("v_measure",),
    "PairClassification": ("max_ap", "max_f1"),
    "STS": ("cosine_spearman", "cosine_pearson"),
}
"""Metrics shown per task type, first match wins (so the image set, a superset, comes first)."""
DIGITS = 4


def _key_metrics(task_result: dict[str, Any]) -> dict[str, float]:
    metrics = headline_metrics(task_result)
    for names in KEY_METRICS.values():
        if names[0] in metrics and all(name in metrics for name in names):
            return {name: round(metrics[name], DIGITS) for name in names}
    return {"main_score": round(metrics["main_score"], DIGITS)}


def _kept(score: float, baseline: float) -> float | None:
    return round(100.0 * score / baseline, 2) if baseline else None


def _model_summary(run: ModelRun) -> dict[str, Any]:
    return {
        "name": run.name,
        "weight_bytes": run.weight_bytes,
        "embedding_dim": run.embedding_dim,
        "texts_per_second": round(run.texts_per_second, 1),
    }


def summary(report: EvalReport) -> dict[str, Any]:
    """The report as plain JSON data: per task ``main_score`` and metrics under mteb's names."""
    tasks = []
    for task in report.tasks:
        result = report.model.task_results[task.name]
        entry: dict[str, Any] = {
            "task": task.name,
            "main_score_name": task.main_score,
            "main_score": round(main_scores(result)["main_score"], DIGITS),
            "metrics": _key_metrics(result),
            "evaluation_time_s": round(result.get("evaluation_time") or 0.0, 1),
            "domain": task.domain,
        }
        if report.baseline is not None:
            base = report.baseline.task_results[task.name]
            entry["baseline_main_score"] = round(main_scores(base)["main_score"], DIGITS)
            entry["baseline_metrics"] = _key_metrics(base)
            entry["kept_percent"] = _kept(entry["main_score"], entry["baseline_main_score"])
        tasks.append(entry)
    average = round(sum(t["main_score"] for t in tasks) / len(tasks), DIGITS) if tasks else None
    data: dict[str, Any] = {
        "size": report.size,
        "model": _model_summary(report.model),
        "tasks": tasks,
        "average_main_score": average,
    }
    if report.baseline is not None:
        baseline_average = (
            round(sum(t["baseline_main_score"] for t in tasks) / len(tasks), DIGITS) if tasks else None
        )
        data["baseline"] = _model_summary(report.baseline)
        data["baseline_average_main_score"] = baseline_average
        data["average_kept_percent"] = _kept(average, baseline_average) if tasks else None
        if report.baseline.weight_bytes and report.model.weight_bytes:
            data["size_ratio"] = round(report.model.weight_bytes / report.baseline.weight_bytes, 4)
        data["throughput_ratio"] = round(report.model.texts_per_second / report.baseline.texts_per_second, 3)
        data["fidelity"] = {key: round(value, DIGITS) for key, value in (report.fidelity or {}).items()}
    data["domain_averages"] = _domain_averages(tasks)
    return data


def _domain_averages(tasks: list[dict[str, Any]]) -> dict[str, dict[str, float | None]]:
    """Per domain (in-domain, out-of-domain, other): average main score, the baseline's, and % kept."""
    averages = {}
    for domain in sorted({t["domain"] for t in tasks}):
        members = [t for t in tasks if t["domain"] == domain]
        entry: dict[str, float | None] = {
            "tasks": len(members), "average_main_score": round(sum(t["main_score"] for t in members) / len(members), DIGITS)
        }  # fmt: skip
        if all("baseline_main_score" in t for t in members):
            base = round(sum(t["baseline_main_score"] for t in members) / len(members), DIGITS)
            entry["baseline_average_main_score"] = base
            entry["average_kept_percent"] = _kept(entry["average_main_score"], base)
        averages[domain] = entry
    return averages


def _average_rows(data: dict[str, Any], has_baseline: bool) -> list[tuple[str, str, str, str]]:
    """(label, model average, baseline average, kept %) for each domain when there are several, then overall."""
    rows = []
    domains = data.get("domain_averages", {})
    entries = [(f"average ({name})", entry) for name, entry in domains.items()] if len(domains) > 1 else []
    overall = {"average_main_score": data["average_main_score"]}
    if has_baseline:
        overall |= {"baseline_average_main_score": data["baseline_average_main_score"],
                    "average_kept_percent": data["average_kept_percent"]}  # fmt: skip
    for label, entry in [*entries, ("average", overall)]:
        kept = entry.get("average_kept_percent")
        base = entry.get("baseline_average_main_score")
        rows.append((label, f"{entry['average_main_score']:.4f}", f"{base:.4f}" if base is not None else "n/a",
                     f"{kept:.1f}" if kept else "n/a"))  # fmt: skip
    return rows


def _megabytes(value: int | None) -> str:
    return f"{value / 1e6:.1f} MB" if value else "n/a"


def table(data: dict[str, Any]) -> str:
    """A plain-text table: one row per task, model vs baseline and % kept."""
    has_baseline = "baseline" in data
    header = ["task", "metric", "model"] + (["baseline", "kept %"] if has_baseline else [])
    rows = [header]
    for task in data["tasks"]:
        row = [task["task"], task["main_score_name"], f"{task['main_score']:.4f}"]
        if has_baseline:
            row += [
                f"{task['baseline_main_score']:.4f}",
                f"{task['kept_percent']:.1f}" if task["kept_percent"] else "n/a",
            ]
        rows.append(row)
    if data["tasks"]:
        for label, model, base, kept in _average_rows(data, has_baseline):
            rows.append([label, "main_score", model] + ([base, kept] if has_baseline else []))
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    lines = ["  ".join(cell.ljust(width) for cell, width in zip(row, widths, strict=True)) for row in rows]
    lines.insert(1, "  ".join("-" * width for width in widths))
    lines.append("")
    lines.append(_sizes_line("model", data["model"]))
    if has_baseline:
        lines.append(_sizes_line("baseline", data["baseline"]))
        for key, value in data.get("fidelity", {}).items():
            lines.append(f"fidelity {key}: {value}")
    return "\n".join(lines)


def _sizes_line(label: str, model: dict[str, Any]) -> str:
    return (
        f"{label}: {model['name']}  weights {_megabytes(model['weight_bytes'])}  dim {model['embedding_dim']}  "
        f"{model['texts_per_second']:.1f} inputs/s"
    )


def markdown(data: dict[str, Any], command: str | None = None) -> str:
    """The report as Markdown: scores, kept %, key metrics per task, sizes, throughput, fidelity."""
    has_baseline = "baseline" in data
    lines = [f"# Evaluation report ({data['size']} size)", ""]
    if command:
        lines += ["```", command, "```", ""]
    header = (
        "| task | metric | model |"
        + (" baseline | kept % |" if has_baseline else "")
        + " other metrics (model) |"
    )
    lines += [header, "|" + "---|" * (header.count("|") - 1)]
    for task in data["tasks"]:
        others = ", ".join(f"{k} {v:.4f}" for k, v in task["metrics"].items() if k != task["main_score_name"])
        row = f"| {task['task']} | {task['main_score_name']} | {task['main_score']:.4f} |"
        if has_baseline:
            kept = f"{task['kept_percent']:.1f}" if task["kept_percent"] else "n/a"
            row += f" {task['baseline_main_score']:.4f} | {kept} |"
        lines.append(row + f" {others} |")
    if data["tasks"]:
        for label, model, base, kept in _average_rows(data, has_baseline):
            lines.append(
                f"| **{label}** | main_score | {model} |"
                + (f" {base} | {kept} |" if has_baseline else "")
                + " |"
            )
    lines += ["", "| model | weights | dim | inputs/s |", "|---|---|---|---|"]
    for key in ("model", "baseline") if has_baseline else ("model",):
        model = data[key]
        lines.append(
            f"| {key}: {model['name']} | {_megabytes(model['weight_bytes'])} | {model['embedding_dim']} | "
            f"{model['texts_per_second']:.1f} |"
        )
    if has_baseline and data.get("fidelity"):
        lines += [
            "",
            "Fidelity to the baseline (no labels): "
            + ", ".join(f"{k} {v}" for k, v in data["fidelity"].items()),
        ]
    return "\n".join(lines) + "\n"


def chart(data: dict[str, Any], path: str | Path) -> Path:
    """A bar chart of main scores per task, model beside baseline, written as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = [task["task"] for task in data["tasks"]]
    series = [("model", [task["main_score"] for task in data["tasks"]])]
    if "baseline" in data:
        series.insert(0, ("baseline", [task["baseline_main_score"] for task in data["tasks"]]))
    width = 0.8 / len(series)
    figure, axes = plt.subplots(figsize=(max(6, 1.6 * len(names) + 2), 4))
    for offset, (label, values) in enumerate(series):
        positions = [i + (offset - (len(series) - 1) / 2) * width for i in range(len(names))]
        bars = axes.bar(positions, values, width, label=f"{label}: {data[label]['name']}")
        axes.bar_label(bars, fmt="%.3f", fontsize=7)
    axes.set_xticks(range(len(names)), names, rotation=20, ha="right")
    axes.set_ylabel("main score")
    axes.set_ylim(0, 1.05)
    axes.set_title("ternembed eval")
    axes.legend(fontsize=7, loc="lower right")
    figure.tight_layout()
    path = Path(path)
    figure.savefig(path, dpi=120, metadata={"Software": None})
    plt.close(figure)
    return path


def _safe_name(name: str) -> str:
    """A file name for a model or task: a local path's last part, a hub id with ``/`` as ``__`` (mteb's habit)."""
    if Path(name).expanduser().exists():
        name = Path(name).expanduser().resolve().name
    return re.sub(r"[^A-Za-z0-9._-]+", "__", name).strip("_") or "model"


def write_report(report: EvalReport, folder: str | Path, command: str | None = None) -> dict[str, Path]:
    """Write ``report.json``, ``report.md``, ``report.png`` and mteb task results under ``results/``.

    mteb results go to ``results/<model name>/<task>.json`` (mteb's ``TaskResult`` layout).
    """
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    data = summary(report)
    paths = {"json": folder / "report.json", "markdown": folder / "report.md", "png": folder / "report.png"}
    paths["json"].write_text(json.dumps(data, indent=2) + "\n")
    paths["markdown"].write_text(markdown(data, command))
    chart(data, paths["png"])
    for run in (report.model, report.baseline):
        if run is None:
            continue
        run_folder = folder / "results" / f"{run.label}-{_safe_name(run.name)}"
        run_folder.mkdir(parents=True, exist_ok=True)
        for task_name, result in run.task_results.items():
            (run_folder / f"{_safe_name(task_name)}.json").write_text(
                json.dumps(result, indent=2, default=str) + "\n"
            )
    return paths
