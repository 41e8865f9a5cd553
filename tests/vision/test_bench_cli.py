"""`ternembed bench` on a packed image encoder: rows in the bench.json schema, Markdown and chart."""

from __future__ import annotations

import json

from ternembed.cli.main import main
from tests.tiny_models import tiny_vision_model


def test_bench_cli_times_a_packed_vit_against_its_base_model(tmp_path):
    source = tmp_path / "vit"
    tiny_vision_model("vit").save_pretrained(source)
    packed = tmp_path / "vit-ternary"
    assert main(["quantize", str(source), "--out", str(packed)]) == 0

    out = tmp_path / "bench"
    assert (
        main(
            [
                "bench",
                str(packed),
                "--baseline",
                str(source),
                "--out",
                str(out),
                "--repeats",
                "2",
                "--threads",
                "1",
            ]
        )
        == 0
    )

    rows = json.loads((out / "bench.json").read_text())["rows"]
    assert {row["variant"] for row in rows} == {"torch-fp32", "torch-bf16", "ternary"}
    assert {row["batch_size"] for row in rows} == {1, 8, 32}
    assert all(row["median_ms"] > 0 and row["threads"] == 1 for row in rows)
    assert (out / "bench.md").is_file() and (out / "bench.png").is_file()
