"""The distillation loop end to end on a tiny model, and its refusals of bad input."""

from __future__ import annotations

import copy
import importlib
import json
from pathlib import Path

import pytest
import torch

from ternembed.distill.run_folder import RUN_CONFIG_FILE

FAST = ("--batch-size", "8", "--no-progress", "--eval-texts", "16", "--save-every", "2")
DISTILLED_SETTINGS = ("--max-steps", "6", "--eval-every", "3", "--lr", "1e-3", "--loss",
                      "paper:1,hidden:1,mse:1,cos:1,rkd:0.5,layers:1")  # fmt: skip


@pytest.fixture(scope="module")
def distilled(tiny_st_dir, corpus_file, tmp_path_factory) -> Path:
    """A student distilled for 6 steps with every loss term (module-scoped: built once)."""
    from ternembed.cli.main import main

    out = tmp_path_factory.mktemp("distill") / "student"
    code = main(
        ["distill", tiny_st_dir, "--out", str(out), "--data", corpus_file, *DISTILLED_SETTINGS, *FAST]
    )
    assert code == 0
    return out


def test_output_is_a_loadable_packed_model_with_the_run_config(distilled, tiny_st_dir):
    import ternembed.io

    assert not Path(f"{distilled}.partial").exists()
    run_config = json.loads((distilled / RUN_CONFIG_FILE).read_text())
    assert run_config["arguments"]["teacher"] == tiny_st_dir
    assert run_config["ternary_config"]["granularity"] == "row"
    assert [entry["step"] for entry in run_config["history"]] == [3, 6]
    assert run_config["items_per_second"] > 0 and run_config["corpus"]["held_out_items"] == 15
    model = ternembed.io.load(distilled)
    assert model.encode(["a dog follows the river"]).shape == (1, 32)


def test_distillation_moves_the_student_towards_the_teacher(distilled, tiny_st_dir, corpus_file):
    import ternembed.io
    from ternembed import TernaryConfig, prepare
    from ternembed.models import load_sentence_transformer

    texts = Path(corpus_file).read_text().splitlines()[:64]
    teacher = load_sentence_transformer(tiny_st_dir)
    post_training = prepare(copy.deepcopy(teacher), TernaryConfig())
    student = ternembed.io.load(distilled)

    def token_error(model) -> float:
        features = teacher.preprocess(texts)
        with torch.no_grad():
            reference = teacher(dict(features))["token_embeddings"]
            output = model(dict(features))["token_embeddings"]
        mask = features["attention_mask"].unsqueeze(-1)
        return float(((output - reference) ** 2 * mask).sum() / mask.sum())

    assert token_error(student) < 0.8 * token_error(post_training)


def test_resume_of_a_finished_run_does_nothing(distilled, tiny_st_dir, corpus_file, run_cli):
    before = (distilled / RUN_CONFIG_FILE).read_text()
    code, err = run_cli("distill", tiny_st_dir, "--out", distilled, "--data", corpus_file, "--resume",
                        *DISTILLED_SETTINGS, *FAST)  # fmt: skip
    assert code == 0 and "already a finished run" in err
    assert (distilled / RUN_CONFIG_FILE).read_text() == before


def test_refuses_a_ternary_teacher(distilled, corpus_file, tmp_path, run_cli):
    code, err = run_cli("distill", distilled, "--out", tmp_path / "o", "--data", corpus_file, *FAST)
    assert code == 2 and "is a ternary model" in err and "full-precision" in err


def test_refuses_an_existing_output_folder(tiny_st_dir, corpus_file, tmp_path, run_cli):
    (tmp_path / "o").mkdir()
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "o", "--data", corpus_file, *FAST)
    assert code == 2 and "exists" in err and "--overwrite" in err
    (tmp_path / "p.partial").mkdir()
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "p", "--data", corpus_file, *FAST)
    assert code == 2 and "--resume" in err


def test_bank_term_trains_against_a_bank_of_training_texts(tiny_st_dir, corpus_file, tmp_path, run_cli):
    out = tmp_path / "bank"
    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, "--max-steps", "2",
                        "--loss", "cos:1,bank:1", "--bank-size", "40", *FAST)  # fmt: skip
    assert code == 0, err
    run_config = json.loads((out / RUN_CONFIG_FILE).read_text())
    assert run_config["arguments"]["bank_size"] == 40 and run_config["arguments"]["loss"] == "cos:1,bank:1"


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        (("--batch-size", "0"), "batch_size must be a positive integer"),
        (("--bank-size", "0"), "bank_size must be a positive integer"),
        (("--loss", "hidden:1,typo:1"), "unknown loss 'typo'"),
        (("--max-texts", "5", "--grad-accum", "4"), "cannot fill one optimizer step"),
    ],
)
def test_bad_settings_give_one_clear_line(tiny_st_dir, corpus_file, tmp_path, run_cli, extra, message):
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "o", "--data", corpus_file, *FAST, *extra)
    assert code == 2 and message in err and "Traceback" not in err


def test_bad_corpus_gives_one_clear_line(tiny_st_dir, tmp_path, run_cli):
    empty = tmp_path / "empty.txt"
    empty.write_text("\n\n")
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "o", "--data", empty, *FAST)
    assert code == 2 and "no non-empty texts" in err
    records = tmp_path / "r.jsonl"
    records.write_text('{"body": "a text"}\n')
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "o", "--data", records, *FAST)
    assert code == 2 and "no field 'text'" in err and "--text-field" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.partial").exists()


def test_bf16_autocast_with_gradient_accumulation(tiny_st_dir, corpus_file, tmp_path, run_cli):
    out = tmp_path / "o"
    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, "--max-steps", "2",
                        "--grad-accum", "2", "--bf16", "--loss", "hidden:1,layers:1,cos:1", *FAST)  # fmt: skip
    assert code == 0, err
    run_config = json.loads((out / RUN_CONFIG_FILE).read_text())
    assert (
        run_config["arguments"]["bf16"] and 2 * 8 < run_config["items_seen"] <= 2 * 2 * 8
    )  # 2 steps x 2 batches


def test_bf16_on_a_cpu_that_emulates_it_warns(tiny_st_dir, corpus_file, tmp_path, run_cli, monkeypatch):
    trainer = importlib.import_module("ternembed.distill.trainer")  # ternembed.distill is also a function
    monkeypatch.setattr(trainer, "has_native_bf16", lambda: False)
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "o", "--data", corpus_file, "--max-steps", "1",
                        "--bf16", *FAST)  # fmt: skip
    assert code == 0, err
    assert "--bf16 is emulated" in err and "drop --bf16" in err


def test_a_custom_saver_writes_the_output_folder(tiny_st_dir, corpus_file, tmp_path):
    from ternembed.distill import DistillArguments, distill

    def save_marker(student, folder, config, run_config):
        folder.mkdir(parents=True)
        (folder / "marker.json").write_text(
            json.dumps({"steps": run_config["step"], "kind": type(student).__name__})
        )

    args = DistillArguments(teacher=tiny_st_dir, out=str(tmp_path / "o"), data=(corpus_file,), max_steps=1,
                            batch_size=8, progress=False)  # fmt: skip
    result = distill(args, save_student=save_marker)
    assert json.loads((result.out / "marker.json").read_text()) == {"steps": 1, "kind": "SentenceTransformer"}


def test_student_keeps_the_teachers_max_seq_length_when_training_texts_are_cut(
    tiny_st_dir, corpus_file, tmp_path, run_cli
):
    from sentence_transformers import SentenceTransformer

    from ternembed.io import load

    out = tmp_path / "short"
    code, err = run_cli("distill", tiny_st_dir, "--out", out, "--data", corpus_file, "--max-steps", "1",
                        "--max-seq-length", "16", *FAST)  # fmt: skip
    assert code == 0, err
    teacher_length = SentenceTransformer(tiny_st_dir).max_seq_length
    assert teacher_length == 48 and load(out).max_seq_length == teacher_length
    assert json.loads((out / RUN_CONFIG_FILE).read_text())["arguments"]["max_seq_length"] == 16


def test_eval_scores_the_student_beside_the_teacher_on_user_data(tiny_st_dir, corpus_file, tmp_path, capsys):
    from ternembed.cli.main import main

    sts = tmp_path / "pairs.csv"
    rows = [f"a cat sat on mat {i},a cat sits on a mat {i},{i % 5}" for i in range(20)]
    sts.write_text("sentence1,sentence2,score\n" + "\n".join(rows) + "\n")
    code = main(["distill", tiny_st_dir, "--out", str(tmp_path / "o"), "--data", corpus_file, "--max-steps", "1",
                 "--eval", str(sts), *FAST])  # fmt: skip
    printed = capsys.readouterr().out
    assert code == 0
    assert "pairs" in printed and "kept %" in printed and "cosine_spearman" in printed


def test_eval_on_a_missing_path_fails_before_training(tiny_st_dir, corpus_file, tmp_path, run_cli):
    code, err = run_cli("distill", tiny_st_dir, "--out", tmp_path / "o", "--data", corpus_file,
                        "--eval", tmp_path / "nope.csv", *FAST)  # fmt: skip
    assert code == 2 and "--eval" in err and "no such file" in err
    assert not (tmp_path / "o").exists() and not (tmp_path / "o.partial").exists()
