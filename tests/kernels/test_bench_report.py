"""The bench report logic (no timing is asserted): ratios, issue checks, Markdown and chart files."""

from __future__ import annotations

from ternembed.perf.bench import _add_ratios
from ternembed.perf.report import done_checks, write_chart, write_markdown
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


def test_checks_follow_the_issue_targets():
    checks = dict(done_checks(fake_result()))
    assert checks["1x32: ternary <= 0.20x torch-fp32 latency"] is True
    assert checks["1x32: ternary faster than ort-int8"] is True
    assert checks["32x128: ternary throughput >= 3.5x torch-fp32"] is True
    assert checks["peak RSS below every baseline"] is True


def test_missing_rows_are_not_counted_as_passing():
    result = fake_result()
    result["rows"] = [row for row in result["rows"] if row["variant"] != "ort-int8"]
    assert dict(done_checks(result))["1x32: ternary faster than ort-int8"] is None


def test_report_files_are_written(tmp_path):
    result = fake_result()
    write_markdown(result, tmp_path / "bench.md")
    write_chart(result, tmp_path / "bench.png")
    assert "| 1x32 | ternary | 1.80 |" in (tmp_path / "bench.md").read_text()
    assert (tmp_path / "bench.png").stat().st_size > 1000


def test_batches_are_identical_for_every_variant():
    first, second = make_batch(3, 16, 30522), make_batch(3, 16, 30522)
    assert (first["input_ids"] == second["input_ids"]).all()
    assert first["input_ids"][:, 0].tolist() == [101] * 3 and first["attention_mask"].all()
