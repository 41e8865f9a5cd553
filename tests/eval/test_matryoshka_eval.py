"""benchmarks/matryoshka_eval.py on the tiny model: a row per usable truncation and the full dimension."""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

BENCHMARK = Path(__file__).resolve().parents[2] / "benchmarks" / "matryoshka_eval.py"


def test_scores_at_each_truncation(tiny_st_dir, beir_dir, tiny_wordnet, tmp_path):
    spec = importlib.util.spec_from_file_location("matryoshka_eval", BENCHMARK)
    benchmark = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(benchmark)
    out = tmp_path / "report"
    argv = [tiny_st_dir, "--out", str(out), "--dims", "8,16,64", "--tasks", str(beir_dir), "--size", "quick"]
    assert benchmark.main(argv) == 0
    result = json.loads((out / "matryoshka_eval.json").read_text())
    assert result["full_dimension"] == 32
    assert [row["dimension"] for row in result["rows"]] == [8, 16, 32]  # 64 is above the model's 32
    assert [row["truncated"] for row in result["rows"]] == [True, True, False]
    (task,) = result["rows"][0]["scores"]
    assert all(0.0 <= row["scores"][task] <= 1.0 for row in result["rows"])
    assert result["rows"][-1]["kept"][task] == 1.0
    table = (out / "matryoshka_eval.md").read_text()
    assert (
        "| 8 |" in table and "| 32 |" in table and "Command: `python benchmarks/matryoshka_eval.py" in table
    )
