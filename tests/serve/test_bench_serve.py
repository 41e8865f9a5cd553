"""`ternembed bench-serve` on the tiny model: real server processes, bounded load, the report files.

No timing is asserted: the test checks that every server and scenario has a row of successful
requests with ordered percentiles, that ratios pair the right servers, and that the files are written.
"""

from __future__ import annotations

import json

from ternembed.cli.main import main
from ternembed.perf.serve_load import ratios
from tests.serve.conftest import build_catalogue_index


def test_bench_serve_measures_every_server_and_scenario(ternary_dir, tiny_st_dir, tmp_path, capsys):
    index = build_catalogue_index(ternary_dir, tmp_path / "catalogue")
    out = tmp_path / "report"
    args = ["bench-serve", ternary_dir, "--baseline", tiny_st_dir, "--index", f"catalogue={index}",
            "--out", str(out), "--concurrency", "1,4", "--texts-per-request", "1,4", "--requests", "12",
            "--seconds", "20", "--threads", "1"]  # fmt: skip
    assert main(args) == 0
    printed = capsys.readouterr().out
    assert "ternary vs baseline, /v1/embeddings x1 at concurrency 4" in printed
    result = json.loads((out / "serve_bench.json").read_text())
    keys = {(r["server"], r["endpoint"], r["texts_per_request"], r["concurrency"]) for r in result["rows"]}
    embeddings = {(s, "/v1/embeddings", t, c) for s in ("baseline", "ternary", "ternary, batching off")
                  for t in (1, 4) for c in (1, 4)}  # fmt: skip
    assert keys == embeddings | {("ternary", "/v1/search", 1, c) for c in (1, 4)}
    for row in result["rows"]:
        assert row["requests"] == 12 and row["failed"] == 0
        assert 0 < row["p50_ms"] <= row["p95_ms"] <= row["p99_ms"]
    assert {(r["server"], r["against"]) for r in result["ratios"]} == {
        ("ternary", "baseline"), ("ternary", "ternary, batching off")}  # fmt: skip
    assert all(s["peak_rss_mb"] and s["peak_rss_mb"] > 0 for s in result["servers"])
    assert "| ternary | on | /v1/search |" in (out / "serve_bench.md").read_text()
    assert (out / "serve_bench.png").stat().st_size > 0


def test_ratios_favour_the_first_server_of_each_pair():
    rows = [{"server": name, "endpoint": "/v1/embeddings", "concurrency": 8, "texts_per_request": 1,
             "requests_per_s": rps, "p99_ms": p99} for name, rps, p99 in (("a", 400.0, 5.0), ("b", 100.0, 20.0))]  # fmt: skip
    (ratio,) = ratios(rows, [("a", "b")])
    assert ratio["throughput_x"] == 4.0 and ratio["p99_x"] == 4.0


def test_a_model_without_a_base_model_needs_baseline_or_no_baseline(tiny_st_dir, capsys):
    assert main(["bench-serve", tiny_st_dir, "--requests", "1"]) == 2
    assert "names no base model; pass --baseline MODEL or --no-baseline" in capsys.readouterr().err


def test_a_server_that_cannot_start_is_one_line_with_its_reason(tmp_path, capsys):
    args = ["bench-serve", str(tmp_path / "missing"), "--no-baseline", "--no-batching-off", "--requests", "1",
            "--out", str(tmp_path / "report")]  # fmt: skip
    assert main(args) == 2
    error = capsys.readouterr().err
    assert error.count("\n") == 1 and "server ternary: the server exited with code 2" in error
    assert "no such folder" in error
