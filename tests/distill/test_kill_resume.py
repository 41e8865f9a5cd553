"""A ``kill -9`` mid-run loses at most ``--save-every`` steps, leaves no output folder, and resumes exactly."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from safetensors.torch import load_file

from ternembed.distill.checkpoint import load_checkpoint

SAVE_EVERY = 3


def _command(teacher: str, corpus: str, out: Path, *extra: str) -> list[str]:
    return [sys.executable, "-m", "ternembed.cli.main", "distill", teacher, "--out", str(out), "--data", corpus,
            "--max-steps", "60", "--batch-size", "4", "--lr", "1e-3", "--save-every", str(SAVE_EVERY),
            "--threads", "1", "--no-progress", *extra]  # fmt: skip


def _checkpoint_step(partial: Path) -> int:
    try:
        return json.loads((partial / "checkpoint" / "trainer_state.json").read_text())["step"]
    except (OSError, ValueError, KeyError):
        return 0


@pytest.mark.slow
def test_sigkill_then_resume_matches_an_uninterrupted_run(tiny_st_dir, corpus_file, tmp_path):
    out, partial = tmp_path / "student", tmp_path / "student.partial"
    env = {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false"}
    process = subprocess.Popen(_command(tiny_st_dir, corpus_file, out), env=env, stderr=subprocess.DEVNULL)
    deadline = time.time() + 120
    while _checkpoint_step(partial) < 2 * SAVE_EVERY and process.poll() is None and time.time() < deadline:
        time.sleep(0.01)
    seen = _checkpoint_step(partial)
    process.send_signal(signal.SIGKILL)
    process.wait()
    assert process.returncode == -signal.SIGKILL, "the run finished before it could be killed"
    assert not out.exists(), "a killed run must not leave an output folder"
    _, _, state = load_checkpoint(partial)  # the surviving checkpoint is complete
    assert state["step"] >= seen >= 2 * SAVE_EVERY and state["step"] % SAVE_EVERY == 0

    refused = subprocess.run(_command(tiny_st_dir, corpus_file, out), env=env, capture_output=True, text=True)
    assert refused.returncode == 2 and "--resume" in refused.stderr
    resumed = subprocess.run(
        _command(tiny_st_dir, corpus_file, out, "--resume"), env=env, capture_output=True, text=True
    )
    assert resumed.returncode == 0, resumed.stderr
    assert f"from step {state['step']}/60" in resumed.stderr
    assert not partial.exists()

    reference = tmp_path / "reference"
    straight = subprocess.run(
        _command(tiny_st_dir, corpus_file, reference), env=env, capture_output=True, text=True
    )
    assert straight.returncode == 0, straight.stderr
    resumed_weights = load_file(out / "model.safetensors")
    reference_weights = load_file(reference / "model.safetensors")
    assert resumed_weights.keys() == reference_weights.keys()
    for name, tensor in reference_weights.items():
        assert (resumed_weights[name] == tensor).all(), name
