"""The bench report logic (no timing is asserted): ratios, speed-ups over baselines, Markdown and chart files."""

from __future__ import annotations

import pytest

from ternembed.perf.bench import _add_ratios
from ternembed.perf.report import footprint_ratios, speedup_lines, speedups, write_chart, write_markdown
from ternembed.perf.worker import make_batch


def fake_result() -> dict:
    latency = {
        "torch-fp32": (10.0, 500.0),
        "torch-bf16": (12.0, 150.0),
        "ort-int8": (2.5, 260.0),
        "ternary": (1.8, 120.0),
    }
    rows = []
    for variant, (small, large) in latency.items():
        for (batch_size, seq_len), median_ms in (((1, 32), small), ((32, 128), large)):
            rows.append(
                {
                    "variant": variant,
                    "batch_size": batch_size,
                    "seq_len": seq_len,
                    "threads": 2,
                    "median_ms": median_ms,
                    "min_ms": median_ms,
                    "texts_per_s": batch_size / median_ms * 1e3,
                    "load_s": 0.5,
                    "weights_bytes": 15e6 if variant == "ternary" else 40e6,
                    "peak_rss_mb": 600.0 if variant == "ternary" else 700.0,
                    "model_rss_mb": 20.0,
                }
            )
    _add_ratios(rows)
    return {
        "model": "m",
        "baseline": "b",
        "threads": 2,
        "repeats": 3,
        "cpu": "x",
        "rows": rows,
        "skipped": {},
    }


def test_speedups_divide_each_baseline_by_the_ternary_latency_at_the_same_shape():
    rows = speedups(fake_result())
    assert [(row["batch_size"], row["seq_len"]) for row in rows] == [(1, 32), (32, 128)]
    assert rows[0]["median_ms"] == 1.8
    assert rows[0]["speedup"] == pytest.approx(
        {"torch-fp32": 10 / 1.8, "torch-bf16": 12 / 1.8, "ort-int8": 2.5 / 1.8}
    )
    assert rows[1]["speedup"]["torch-fp32"] == pytest.approx(500 / 120)


def test_a_baseline_missing_at_a_shape_is_left_out_not_counted():
    result = fake_result()
    result["rows"] = [row for row in result["rows"] if (row["variant"], row["batch_size"]) != ("ort-int8", 1)]
    small, large = speedups(result)
    assert "ort-int8" not in small["speedup"] and large["speedup"]["ort-int8"] == pytest.approx(260 / 120)


def test_footprint_ratios_and_printed_lines():
    ratios = footprint_ratios(fake_result())
    assert ratios["torch-fp32"] == pytest.approx({"weights": 15 / 40, "peak_rss": 600 / 700})
    assert footprint_ratios({"rows": []}) == {}
    assert (
        speedup_lines(fake_result())[0]
        == "1x32: ternary 1.80 ms; 5.56x torch-fp32, 6.67x torch-bf16, 1.39x ort-int8"
    )


def test_report_files_are_written(tmp_path):
    result = fake_result()
    write_markdown(result, tmp_path / "bench.md")
    write_chart(result, tmp_path / "bench.png")
    markdown = (tmp_path / "bench.md").read_text()
    assert "| 1x32 | ternary | 1.80 |" in markdown
    assert "| 1x32 | 1.80 | 5.56x | 6.67x | 1.39x |" in markdown
    assert "| torch-fp32 | 0.38 | 0.86 |" in markdown
    assert "issue" not in markdown and "target" not in markdown
    assert (tmp_path / "bench.png").stat().st_size > 1000


def test_batches_are_identical_for_every_variant():
    first, second = make_batch(3, 16, 30522), make_batch(3, 16, 30522)
    assert (first["input_ids"] == second["input_ids"]).all()
    assert first["input_ids"][:, 0].tolist() == [101] * 3 and first["attention_mask"].all()
