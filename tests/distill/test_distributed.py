"""Two CPU processes (gloo DDP) under torchrun and accelerate launch: one model, written once."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
from pathlib import Path

import pytest

WORKER = Path(__file__).with_name("ddp_worker.py")


def _free_port() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return str(sock.getsockname()[1])


def _env() -> dict[str, str]:
    root = str(Path(__file__).resolve().parents[2])
    return {**os.environ, "HF_HUB_OFFLINE": "1", "TOKENIZERS_PARALLELISM": "false", "OMP_NUM_THREADS": "1",
            "PYTHONPATH": os.pathsep.join(filter(None, [root, os.environ.get("PYTHONPATH")]))}  # fmt: skip


@pytest.mark.slow
def test_torchrun_two_ranks_train_the_same_model_and_only_rank_0_writes(tiny_st_dir, corpus_file, tmp_path):
    out, reports = tmp_path / "student", tmp_path / "reports"
    reports.mkdir()
    command = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2", "--master_port", _free_port(),
               str(WORKER), tiny_st_dir, corpus_file, str(out), str(reports)]  # fmt: skip
    result = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    rank0 = json.loads((reports / "rank0.json").read_text())
    rank1 = json.loads((reports / "rank1.json").read_text())
    assert rank0["world_size"] == rank1["world_size"] == 2
    assert rank0["digests"] == rank1["digests"], "the ranks ended with different weights"
    assert rank0["out"] == str(out) and rank1["out"] == "None"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["reports", "student"]
    run_config = json.loads((out / "distill_config.json").read_text())
    assert run_config["world_size"] == 2 and run_config["step"] == 4


@pytest.mark.slow
def test_accelerate_launch_runs_the_same_cli_command(tiny_st_dir, corpus_file, tmp_path):
    out = tmp_path / "student"
    command = [sys.executable, "-m", "accelerate.commands.launch", "--multi_gpu", "--num_processes", "2",
               "--num_machines", "1", "--mixed_precision", "no", "--dynamo_backend", "no",
               "--main_process_port", _free_port(), "-m", "ternembed.cli.main", "distill", tiny_st_dir,
               "--out", str(out), "--data", corpus_file, "--max-steps", "3", "--batch-size", "4", "--no-progress"]  # fmt: skip
    result = subprocess.run(command, env=_env(), capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stderr[-3000:]
    assert sorted(p.name for p in tmp_path.iterdir()) == ["student"]
    assert json.loads((out / "distill_config.json").read_text())["world_size"] == 2
