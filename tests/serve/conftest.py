"""Fixtures for server tests: a tiny ternary model, a tiny index with metadata, real server processes."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from ternembed.perf.serve_load import ServeBenchError, free_port, wait_until_healthy

TOPICS = ["cats and kittens", "stock markets", "mountain hiking", "baking bread", "quantum physics"]


class ServerProcess:
    """``python -m ternembed.cli.main serve ...`` on a free loopback port, ready once /health answers."""

    def __init__(self, args: list[str], env: dict[str, str] | None = None) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        command = [sys.executable, "-m", "ternembed.cli.main", "serve", *args, "--port", str(self.port)]
        self.process = subprocess.Popen(
            command,
            env={**os.environ, **(env or {})},
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            wait_until_healthy(self.process, self.url, 120)
        except ServeBenchError as error:
            self.stop()
            raise RuntimeError(f"{error}: {self.process.stdout.read()}") from None

    def post(self, path: str, body, **kwargs) -> httpx.Response:
        return httpx.post(self.url + path, json=body, timeout=60, **kwargs)

    def stop(self, sig: int = signal.SIGTERM) -> int:
        if self.process.poll() is None:
            self.process.send_signal(sig)
        return self.process.wait(timeout=60)


@pytest.fixture(scope="session")
def ternary_dir(tiny_st_dir, tmp_path_factory) -> str:
    """The tiny sentence-transformer quantized to a packed ternary folder."""
    from ternembed.cli.main import main

    out = tmp_path_factory.mktemp("ternary") / "model"
    assert main(["quantize", tiny_st_dir, "--out", str(out), "--no-fidelity"]) == 0
    return str(out)


@pytest.fixture(scope="session")
def ternary_model(ternary_dir):
    from ternembed.index import load_model

    return load_model(ternary_dir)


def catalogue_records() -> list[dict]:
    """40 documents on 5 topics, with a topic and a price in their metadata."""
    return [
        {"id": f"d{i}", "text": f"{TOPICS[i % 5]} note number {i}", "topic": TOPICS[i % 5], "price": i}
        for i in range(40)
    ]


def build_catalogue_index(model_dir: str, folder: Path, backend: str = "faiss-hnsw") -> Path:
    """An index of :func:`catalogue_records` built by ``ternembed index``."""
    from ternembed.cli.main import main

    corpus = folder.parent / f"{folder.name}.jsonl"
    corpus.write_text(
        "\n".join(json.dumps(record) for record in catalogue_records()) + "\n", encoding="utf-8"
    )
    assert (
        main(["index", model_dir, "--corpus", str(corpus), "--out", str(folder), "--backend", backend]) == 0
    )
    return folder


@pytest.fixture(scope="session")
def server(ternary_dir, tmp_path_factory):
    """One server of the ternary model with a catalogue index, shared by the read-only tests."""
    folder = build_catalogue_index(ternary_dir, tmp_path_factory.mktemp("served") / "catalogue")
    process = ServerProcess([ternary_dir, "--index", f"catalogue={folder}", "--model-name", "tiny-ternary"])
    yield process
    process.stop()
