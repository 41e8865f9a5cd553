"""The matryoshka loss term: cosine of truncated, re-normalized embeddings, averaged over dims."""

from __future__ import annotations

import json

import pytest
import torch
import torch.nn.functional as F

from ternembed.distill.encoders import EncoderOutput
from ternembed.distill.losses import LossSpec, distillation_loss, matryoshka_cosine
from ternembed.distill.run_folder import RUN_CONFIG_FILE

FAST = ("--batch-size", "8", "--no-progress", "--eval-texts", "16", "--save-every", "2")


def _pooled(seed: int) -> torch.Tensor:
    return torch.randn(5, 16, generator=torch.Generator().manual_seed(seed))


def test_matryoshka_is_the_mean_truncated_cosine_loss():
    student, teacher = _pooled(0), _pooled(1)
    manual = (
        sum(
            1 - (F.normalize(student[:, :d], dim=-1) * F.normalize(teacher[:, :d], dim=-1)).sum(-1).mean()
            for d in (4, 8)
        )
        / 2
    )
    assert float(matryoshka_cosine(student, teacher, (4, 8, 16, 64))) == pytest.approx(
        float(manual), rel=1e-6
    )


def test_matryoshka_reads_only_the_leading_dimensions():
    teacher = _pooled(1)
    student = teacher.clone()
    student[:, 8:] = _pooled(2)[:, 8:]  # the first 8 dimensions agree, the rest do not
    spec = LossSpec.parse("cos:1,matryoshka:1")
    outputs = [EncoderOutput(x, None, None) for x in (student, teacher)]
    total, terms = distillation_loss(spec, *outputs, matryoshka_dims=(4, 8))
    assert terms["matryoshka"] == pytest.approx(0.0, abs=1e-6) and terms["cos"] > 0.05
    assert float(total) == pytest.approx(terms["cos"] + terms["matryoshka"], rel=1e-6)


def test_no_dimension_below_the_model_is_an_error():
    with pytest.raises(ValueError, match="no dimension below the model's 16"):
        matryoshka_cosine(_pooled(0), _pooled(1), (16, 64))


def test_distill_with_a_matryoshka_term(tiny_st_dir, corpus_file, tmp_path, run_cli):
    out = tmp_path / "student"
    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, "--max-steps", "2",
                        "--loss", "hidden:1,cos:1,matryoshka:0.5", "--matryoshka-dims", "8,16", *FAST)  # fmt: skip
    assert code == 0, err
    arguments = json.loads((out / RUN_CONFIG_FILE).read_text())["arguments"]
    assert arguments["loss"] == "hidden:1,cos:1,matryoshka:0.5" and arguments["matryoshka_dims"] == [8, 16]


def test_bad_matryoshka_dims_are_one_line(tiny_st_dir, corpus_file, tmp_path, run_cli, capsys):
    args = (
        "distill",
        tiny_st_dir,
        "--out",
        tmp_path / "o",
        "--data",
        corpus_file,
        "--loss",
        "cos:1,matryoshka:1",
    )
    code, err = run_cli(*args, "--matryoshka-dims", "32,64", *FAST)
    assert code == 2 and "needs --matryoshka-dims below the teacher's 32 dimensions" in err
    assert "Traceback" not in err and not (tmp_path / "o").exists()
    with pytest.raises(SystemExit):
        run_cli(*args, "--matryoshka-dims", "8,x")
    assert "'8,x' is not a comma-separated list of integers" in capsys.readouterr().err
