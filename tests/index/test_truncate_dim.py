"""`ternembed index --truncate-dim`: the index keeps N re-normalized dimensions and search truncates queries."""

from __future__ import annotations

import json

import numpy as np

from ternembed.cli.main import main


def test_truncated_index_searches_with_truncated_queries(tiny_st_dir, tiny_corpus, tmp_path, capsys):
    from ternembed.index import SearchIndex

    out = tmp_path / "idx"
    args = ["index", tiny_st_dir, "--corpus", str(tiny_corpus), "--out", str(out), "--truncate-dim", "16"]
    assert main(args + ["--backend", "faiss-flat"]) == 0
    assert "16 dims" in capsys.readouterr().out
    config = json.loads((out / "index_config.json").read_text())
    assert config["dimension"] == 16 and config["model"]["truncate_dim"] == 16
    index = SearchIndex.load(out)
    query = index.model.encode_query(["mountain hiking note number 7"], normalize_embeddings=True)
    assert query.shape == (1, 16) and np.isclose(np.linalg.norm(query), 1.0, atol=1e-5)
    assert main(["search", str(out), "mountain hiking note number 7", "-k", "1"]) == 0
    assert capsys.readouterr().out.split()[2] == "d7"  # rank, score, id, then the text


def test_truncate_dim_above_the_model_dimension_is_one_line(tiny_st_dir, tiny_corpus, tmp_path, capsys):
    args = ["index", tiny_st_dir, "--corpus", str(tiny_corpus), "--out", str(tmp_path / "idx")]
    assert main(args + ["--truncate-dim", "64"]) == 2
    error = capsys.readouterr().err
    assert "--truncate-dim 64 is outside 1..32" in error and "Traceback" not in error
    assert not (tmp_path / "idx").exists()
