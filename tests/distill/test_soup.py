"""Model soups: --keep-latent runs averaged into one packed student, and the refusals of bad runs."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
import torch

from ternembed.distill.checkpoint import LATENT_FILE
from ternembed.distill.soup import SOUP_FILE, SoupError, average_states

FAST = ("--batch-size", "8", "--no-progress", "--eval-texts", "16", "--max-steps", "3", "--lr", "1e-3")
SENTENCES = ["a dog runs in the park", "the stock market fell today", "how to bake bread"]


@pytest.fixture(scope="module")
def latent_runs(tiny_st_dir, corpus_file, tmp_path_factory) -> list[Path]:
    """Two tiny students of one teacher, seeds 0 and 1, with their latent weights kept."""
    from ternembed.cli.main import main

    root = tmp_path_factory.mktemp("soup")
    runs = []
    for seed in (0, 1):
        out = root / f"seed{seed}"
        args = ["distill", tiny_st_dir, "--out", str(out), "--data", corpus_file, "--seed", str(seed)]
        assert main([*args, "--keep-latent", *FAST]) == 0
        runs.append(out)
    return runs


def _encode(folder: Path) -> torch.Tensor:
    import ternembed.io

    return torch.as_tensor(ternembed.io.load(folder).encode(SENTENCES, convert_to_numpy=True))


def test_keep_latent_writes_training_state_that_sizes_do_not_count(latent_runs):
    from ternembed.eval.models import weight_bytes
    from ternembed.io import inspect_folder

    run = latent_runs[0]
    assert (run / LATENT_FILE).is_file()
    model_file = (run / "model.safetensors").stat().st_size
    assert inspect_folder(run).weights_bytes == model_file == weight_bytes(run)


def test_soup_averages_two_students_into_a_loadable_packed_model(latent_runs, tmp_path, run_cli):
    code, _ = run_cli("soup", *latent_runs, "--out", tmp_path / "soup")
    assert code == 0
    record = json.loads((tmp_path / "soup" / SOUP_FILE).read_text())
    assert record["runs"] == [str(run) for run in latent_runs] and record["seeds"] == [0, 1]
    soup, first, second = (_encode(folder) for folder in (tmp_path / "soup", *latent_runs))
    assert soup.shape == first.shape and torch.isfinite(soup).all()
    assert not torch.allclose(soup, first) and not torch.allclose(soup, second)


def test_soup_of_a_run_and_its_copy_is_that_run(latent_runs, tmp_path, run_cli):
    copy = tmp_path / "copy"
    shutil.copytree(latent_runs[0], copy)
    assert run_cli("soup", latent_runs[0], copy, "--out", tmp_path / "same")[0] == 0
    assert torch.allclose(_encode(tmp_path / "same"), _encode(latent_runs[0]), atol=1e-5)


def test_average_states_is_the_elementwise_mean_and_checks_names_and_shapes():
    first = {"w": torch.tensor([1.0, 2.0]), "steps": torch.tensor([3])}
    second = {"w": torch.tensor([3.0, 6.0]), "steps": torch.tensor([3])}
    averaged = average_states([first, second])
    assert torch.equal(averaged["w"], torch.tensor([2.0, 4.0])) and torch.equal(
        averaged["steps"], first["steps"]
    )
    with pytest.raises(SoupError, match="other tensors"):
        average_states([first, {"w": second["w"]}])
    with pytest.raises(SoupError, match="'w' is \\(3,\\)"):
        average_states([first, {**second, "w": torch.zeros(3)}])


def test_soup_refuses_runs_it_cannot_average(latent_runs, tiny_st_dir, corpus_file, tmp_path, run_cli):
    code, error = run_cli("soup", latent_runs[0], "--out", tmp_path / "one")
    assert code == 2 and "at least two runs" in error
    code, error = run_cli("soup", latent_runs[0], latent_runs[0], "--out", tmp_path / "twice")
    assert code == 2 and "named twice" in error
    code, error = run_cli("soup", latent_runs[0], tiny_st_dir, "--out", tmp_path / "teacher")
    assert code == 2 and "not a finished distillation run" in error

    no_latent = tmp_path / "no_latent"
    args = ["distill", tiny_st_dir, "--out", no_latent, "--data", corpus_file, *FAST]
    assert run_cli(*args)[0] == 0
    code, error = run_cli("soup", latent_runs[0], no_latent, "--out", tmp_path / "x")
    assert code == 2 and "--keep-latent" in error

    other = tmp_path / "other_teacher"
    shutil.copytree(latent_runs[1], other)
    config = json.loads((other / "distill_config.json").read_text())
    config["arguments"]["teacher"] = "all-MiniLM-L6-v2"
    (other / "distill_config.json").write_text(json.dumps(config))
    code, error = run_cli("soup", latent_runs[0], other, "--out", tmp_path / "y")
    assert code == 2 and "differ in teacher" in error

    corrupt = tmp_path / "corrupt"
    shutil.copytree(latent_runs[1], corrupt)
    (corrupt / LATENT_FILE).write_bytes(b"not safetensors")
    code, error = run_cli("soup", latent_runs[0], corrupt, "--out", tmp_path / "z")
    assert code == 2 and "cannot be read as safetensors" in error
    assert not (tmp_path / "x").exists() and not (tmp_path / "y").exists() and not (tmp_path / "z").exists()
