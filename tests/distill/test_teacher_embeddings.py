"""`distill --teacher-embeddings`: stored teacher vectors train exactly like the running teacher."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import torch

from ternembed.distill import DistillArguments, distill
from ternembed.embed import embed_corpus
from ternembed.quantize import ternary_layers

FAST = ("--batch-size", "8", "--no-progress", "--eval-texts", "16", "--save-every", "2")


@pytest.fixture(scope="module")
def records(corpus_file, tmp_path_factory) -> Path:
    """The 150 corpus sentences as JSON lines with ids."""
    texts = Path(corpus_file).read_text(encoding="utf-8").split("\n")
    path = tmp_path_factory.mktemp("records") / "texts.jsonl"
    lines = [json.dumps({"id": f"t{i}", "text": text}) for i, text in enumerate(t for t in texts if t)]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def vectors(tiny_st_dir, records, tmp_path_factory) -> Path:
    """The teacher's float32 vectors of every record."""
    out = tmp_path_factory.mktemp("vectors") / "teacher.parquet"
    return embed_corpus(tiny_st_dir, records, out, show_progress=False).out


def _student(tiny_st_dir, records, out, **extra) -> dict[str, torch.Tensor]:
    args = DistillArguments(teacher=tiny_st_dir, out=str(out), data=(str(records),), max_steps=3, batch_size=8,
                            eval_texts=16, progress=False, loss="cos:1,rkd:0.5,matryoshka:0.5",
                            matryoshka_dims=(8, 16), **extra)  # fmt: skip
    return distill(args).student.state_dict()


@pytest.mark.parametrize("match", ["text", "id"])
def test_stored_vectors_train_like_the_teacher(tiny_st_dir, records, vectors, tmp_path, match, monkeypatch):
    expected = _student(tiny_st_dir, records, tmp_path / "teacher")
    from ternembed.distill import trainer

    teacher_calls = []
    encode = trainer.TextBatchEncoder.encode
    monkeypatch.setattr(trainer.TextBatchEncoder, "encode", lambda self, model, batch, hidden_states=False: (
        teacher_calls.append(not ternary_layers(model)) or encode(self, model, batch, hidden_states)))  # fmt: skip
    stored = _student(
        tiny_st_dir, records, tmp_path / "stored", teacher_embeddings=str(vectors), teacher_match=match
    )
    assert stored.keys() == expected.keys()
    for name, value in expected.items():
        torch.testing.assert_close(stored[name], value, atol=1e-5, rtol=1e-4, msg=name)
    assert sum(teacher_calls) == 1  # the teacher only embeds the held-out texts, never a training batch


def test_refusals_are_one_line(tiny_st_dir, records, vectors, tmp_path, run_cli):
    base = ("distill", tiny_st_dir, "--out", tmp_path / "o", "--data", records, *FAST)
    code, err = run_cli(*base, "--teacher-embeddings", vectors)  # default loss hidden:1,cos:1
    assert code == 2 and "need the teacher's hidden states" in err and "hidden" in err
    int8 = embed_corpus(
        tiny_st_dir, records, tmp_path / "i.parquet", precision="int8", show_progress=False
    ).out
    code, err = run_cli(*base, "--loss", "cos", "--teacher-embeddings", int8)
    assert code == 2 and "holds int8 vectors; --teacher-embeddings needs float32" in err
    truncated = embed_corpus(
        tiny_st_dir, records, tmp_path / "t.parquet", truncate_dim=16, show_progress=False
    ).out
    code, err = run_cli(*base, "--loss", "cos", "--teacher-embeddings", truncated)
    assert code == 2 and "holds 16-dimensional vectors but the teacher gives 32" in err
    subset = tmp_path / "subset.jsonl"
    subset.write_text("".join(records.read_text().splitlines(keepends=True)[:100]), encoding="utf-8")
    partial = embed_corpus(tiny_st_dir, subset, tmp_path / "p.parquet", show_progress=False).out
    code, err = run_cli(*base, "--loss", "cos", "--teacher-embeddings", partial)
    assert code == 2 and "holds 100 vectors, but" in err and "have none when matched by text" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
