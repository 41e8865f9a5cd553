"""bench-ann on a tiny BEIR folder: metrics, sweeps, headline ratios and the report files."""

from __future__ import annotations

import json

import pytest

from ternembed.cli.main import main
from ternembed.index.bench import BenchSettings, run_bench
from ternembed.index.metrics import bootstrap_ratio_interval, knn_recall, retrieval_metrics
from ternembed.index.report import headline_ratios, pareto_frontier, write_report


def test_retrieval_metrics_follow_pytrec_eval():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1, "c": 1}}
    run = {"q1": {"x": 0.9, "a": 0.5}, "q2": {"b": 0.9, "z": 0.1}}
    metrics = retrieval_metrics(run, qrels, k=10)
    assert metrics["recall_at_10"] == pytest.approx((1 + 0.5) / 2)
    ndcg_q1 = 1 / 1.5849625007  # relevant at rank 2
    ndcg_q2 = 1 / (1 + 1 / 1.5849625007)  # one of two relevant, at rank 1
    assert metrics["ndcg_at_10"] == pytest.approx((ndcg_q1 + ndcg_q2) / 2, abs=1e-6)


def test_retrieval_metrics_per_query_follows_qrels_order_and_counts_missing_queries_as_zero():
    qrels = {"q1": {"a": 1}, "q2": {"b": 1}, "q3": {"c": 1}}
    run = {"q2": {"b": 0.9}, "q1": {"x": 0.9, "a": 0.5}}
    metrics = retrieval_metrics(run, qrels, k=10, per_query=True)
    assert metrics["per_query_ndcg_at_10"] == pytest.approx([1 / 1.5849625007, 1.0, 0.0], abs=1e-6)
    assert metrics["ndcg_at_10"] == pytest.approx(sum(metrics["per_query_ndcg_at_10"]) / 3, abs=1e-6)
    assert "per_query_ndcg_at_10" not in retrieval_metrics(run, qrels, k=10)


def test_bootstrap_ratio_interval_brackets_the_ratio_and_narrows_with_more_queries():
    import numpy as np

    rng = np.random.default_rng(1)
    teacher = rng.random(400)
    student = teacher * 0.9 + rng.normal(0, 0.05, 400)
    low, high = bootstrap_ratio_interval(student, teacher)
    assert low < student.mean() / teacher.mean() < high
    wide_low, wide_high = bootstrap_ratio_interval(student[:40], teacher[:40])
    assert wide_high - wide_low > high - low
    assert bootstrap_ratio_interval(teacher, teacher) == pytest.approx((1.0, 1.0))
    assert bootstrap_ratio_interval(student, teacher) == (low, high)  # seeded: reproducible


@pytest.mark.parametrize(
    ("numerator", "denominator", "message"),
    [([1.0], [1.0, 2.0], "equally long"), ([], [], "non-empty"), ([1.0], [0.0], "all zero")],
)
def test_bootstrap_ratio_interval_refuses_unpaired_or_degenerate_input(numerator, denominator, message):
    with pytest.raises(ValueError, match=message):
        bootstrap_ratio_interval(numerator, denominator)


def test_knn_recall_and_pareto_frontier():
    import numpy as np

    assert knn_recall(np.array([[1, 2, -1]]), np.array([[2, 3, 1]])) == pytest.approx(2 / 3)
    assert pareto_frontier([(0.5, 100), (0.9, 10), (0.8, 5), (0.9, 20)]) == [(0.9, 20), (0.5, 100)]


def test_run_bench_with_a_baseline_and_write_report(tiny_model, other_tiny_model, tiny_beir, tmp_path):
    settings = BenchSettings(
        precisions=("float32", "binary"), timing_queries=5, latency_queries=3, rescore=(8,)
    )
    report = run_bench(
        other_tiny_model,
        tiny_beir,
        baseline=tiny_model,
        settings=settings,
        model_name="student",
        baseline_name="teacher",
        progress=False,
    )
    assert [entry["role"] for entry in report["models"]] == ["model", "baseline"]
    student = report["models"][0]
    assert student["exact"]["ndcg_at_10"] > 0 and student["latency_ms"]["end_to_end_median"] > 0
    configs = {(c["backend"], c["precision"], c["rescore"], c["rescore_from"]) for c in student["configs"]}
    assert ("faiss-hnsw", "binary", 8, "int8") in configs and ("faiss-flat", "float32", 0, "codes") in configs
    hnsw = next(c for c in student["configs"] if (c["backend"], c["precision"]) == ("faiss-hnsw", "float32"))
    assert [p["params"]["ef_search"] for p in hnsw["points"]] == [16, 32, 64, 128, 256]
    flat = next(c for c in student["configs"] if (c["backend"], c["precision"]) == ("faiss-flat", "float32"))
    assert flat["points"][0]["knn_recall"] == 1.0 and flat["points"][0]["ndcg_at_10"] == pytest.approx(
        student["exact"]["ndcg_at_10"]
    )

    ratios = headline_ratios(report)
    assert ratios[0]["comparison"] == "nDCG@10 of student + faiss-hnsw / teacher + exact search"
    most_accurate = max(point["ndcg_at_10"] for point in hnsw["points"])
    assert ratios[0]["ratio"] == pytest.approx(most_accurate / report["models"][1]["exact"]["ndcg_at_10"])
    assert "most accurate point" in ratios[0]["detail"] and "x exact faiss-flat" in ratios[0]["detail"]
    low, high = ratios[0]["interval"]
    assert low <= ratios[0]["ratio"] <= high and "95% bootstrap interval over the" in ratios[0]["detail"]
    assert all("per_query_ndcg_at_10" in point for point in hnsw["points"])
    assert "per_query_ndcg_at_10" not in flat["points"][0]
    rescored = next(r for r in ratios if "faiss-hnsw binary +rescore 8 (int8 on disk)" in r["comparison"])
    binary = next(
        c
        for c in student["configs"]
        if (c["backend"], c["precision"], c["rescore"], c["rescore_from"])
        == ("faiss-hnsw", "binary", 8, "int8")
    )
    at_float = next(p for p in binary["points"] if p["params"] == hnsw["summary_point"]["params"])
    assert rescored["ratio"] == pytest.approx(at_float["ndcg_at_10"] / hnsw["summary_point"]["ndcg_at_10"])
    assert rescored["memory_ratio"] == binary["memory_ratio_vs_float32"] > 1
    latency = next(r for r in ratios if r["comparison"].startswith("end-to-end query latency"))
    assert latency["ratio"] == pytest.approx(
        student["latency_ms"]["end_to_end_median"] / report["models"][1]["latency_ms"]["end_to_end_median"]
    )
    assert not any({"threshold", "met"} & set(r) for r in ratios)
    paths = write_report(report, tmp_path / "report", command="ternembed bench-ann ...")
    assert json.loads(paths["json"].read_text())["ratios"] == ratios
    markdown = paths["markdown"].read_text()
    assert "| student | model | 32 |" in markdown and "## Ratios" in markdown
    assert "Done-when" not in markdown and "threshold" not in markdown
    assert paths["plot"].read_bytes()[:4] == b"\x89PNG"


def test_bench_ann_cli_on_a_beir_folder(tiny_st_dir, tiny_beir, tmp_path, capsys):
    out = tmp_path / "report"
    args = ["bench-ann", tiny_st_dir, "--task", str(tiny_beir), "--no-baseline", "--out", str(out)]
    args += [
        "--backends",
        "faiss-hnsw",
        "faiss-ivf",
        "--precisions",
        "float32",
        "int8",
        "--timing-queries",
        "3",
        "--m",
        "8",
        "--ef-construction",
        "40",
    ]
    assert main(args) == 0
    assert f"wrote {out / 'ann_bench.md'}" in capsys.readouterr().out
    report = json.loads((out / "ann_bench.json").read_text())
    assert report["corpus_size"] == 60 and report["query_count"] == 10
    assert {c["backend"] for c in report["models"][0]["configs"]} == {"faiss-hnsw", "faiss-ivf"}
    assert (
        report["command"].startswith("ternembed bench-ann")
        and "--m 8 --ef-construction 40" in report["command"]
    )
    assert (report["settings"]["hnsw_m"], report["settings"]["hnsw_ef_construction"]) == (8, 40)


def test_bench_ann_cli_missing_task_folder(tiny_st_dir, tmp_path, capsys):
    assert main(["bench-ann", tiny_st_dir, "--task", str(tmp_path / "nope"), "--no-baseline"]) == 2
    assert "nope" in capsys.readouterr().err


def test_bench_ann_cli_runs_a_packed_model_with_int8_activations(tiny_st_dir, tiny_beir, tmp_path, capsys):
    import ternembed

    config = ternembed.TernaryConfig()
    packed = tmp_path / "packed"
    ternembed.save(ternembed.ternarize_model(tiny_st_dir, config), packed, config)
    out = tmp_path / "report"
    args = ["bench-ann", str(packed), "--task", str(tiny_beir), "--no-baseline", "--out", str(out)]
    args += [
        "--backends",
        "faiss-flat",
        "--precisions",
        "float32",
        "--timing-queries",
        "3",
        "--activations",
        "int8",
    ]
    assert main(args) == 0
    report = json.loads((out / "ann_bench.json").read_text())
    assert report["models"][0]["name"].endswith("(int8 activations)")
    assert report["command"].endswith("--activations int8")
