"""Tiny copies of the real data in the real file formats, so every task runs in seconds."""

from __future__ import annotations

import gzip
from pathlib import Path

import numpy as np
import pytest
import torch

from ternembed.data.fashion_mnist import FASHION_MNIST_DIR_ENV, SPLIT_FILES
from ternembed.data.wordnet import DATA_FILES, WORDNET_DIR_ENV, parse_data_line, wordnet_dir

WORDNET_STRIDE = 25
"""Keep every 25th synset line of each real data file, plus the hypernyms they need."""


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models run fastest on one thread, and far faster on a machine shared with other jobs."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


@pytest.fixture(scope="session")
def tiny_wordnet_dir(tmp_path_factory) -> Path:
    """A WordNet folder holding a fixed sample of the installed database and all its ancestors, lines unchanged."""
    source = wordnet_dir()
    folder = tmp_path_factory.mktemp("wordnet")
    files = {}
    for pos, name in DATA_FILES.items():
        lines = (source / name).read_text(encoding="utf-8", errors="replace").splitlines(keepends=True)
        files[name] = [
            (line, None if line.startswith("  ") else parse_data_line(line, pos)) for line in lines
        ]
    parsed = {synset.id: synset for rows in files.values() for _, synset in rows if synset}
    keep = {synset.id for rows in files.values() for synset in [s for _, s in rows if s][::WORDNET_STRIDE]}
    frontier = list(keep)
    while frontier:
        frontier = [h for synset_id in frontier for h in parsed[synset_id].hypernyms if h not in keep]
        keep.update(frontier)
    for name, rows in files.items():
        (folder / name).write_text(
            "".join(line for line, s in rows if s is None or s.id in keep), encoding="utf-8"
        )
    return folder


@pytest.fixture
def tiny_wordnet(tiny_wordnet_dir, monkeypatch) -> Path:
    """Point the WordNet reader at the tiny folder for this test."""
    monkeypatch.setenv(WORDNET_DIR_ENV, str(tiny_wordnet_dir))
    return tiny_wordnet_dir


def write_idx(path: Path, array: np.ndarray) -> None:
    """Write a uint8 array as a gzip-compressed IDX file."""
    header = bytes([0, 0, 0x08, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    with gzip.open(path, "wb") as handle:
        handle.write(header + array.astype(np.uint8).tobytes())


@pytest.fixture(scope="session")
def tiny_fashion_mnist_dir(tmp_path_factory) -> Path:
    """Fashion-MNIST IDX files with 8 random 28x28 images per class and split; class c is brighter with c."""
    folder = tmp_path_factory.mktemp("fashion")
    rng = np.random.default_rng(0)
    for image_file, label_file in SPLIT_FILES.values():
        labels = np.repeat(np.arange(10), 8)
        noise = rng.integers(0, 40, size=(len(labels), 28, 28))
        images = noise + (labels * 20)[:, None, None]
        write_idx(folder / image_file, images)
        write_idx(folder / label_file, labels)
    return folder


@pytest.fixture
def tiny_fashion_mnist(tiny_fashion_mnist_dir, monkeypatch) -> Path:
    """Point the Fashion-MNIST reader at the tiny folder for this test."""
    monkeypatch.setenv(FASHION_MNIST_DIR_ENV, str(tiny_fashion_mnist_dir))
    return tiny_fashion_mnist_dir


class PixelEncoder:
    """A deterministic image encoder for tests: mean brightness of a 4x4 grid of cells."""

    modalities = ("image",)

    def encode(self, images, batch_size: int = 32, **kwargs) -> np.ndarray:
        arrays = [np.asarray(image.convert("L"), dtype=np.float32) / 255.0 for image in images]
        return (
            np.stack([a.reshape(4, 7, 4, 7).mean(axis=(1, 3)).ravel() for a in arrays])
            if arrays
            else np.zeros((0, 16))
        )

    def get_sentence_embedding_dimension(self) -> int:
        return 16


@pytest.fixture
def pixel_encoder() -> PixelEncoder:
    return PixelEncoder()


@pytest.fixture
def beir_dir(tmp_path) -> Path:
    """A small valid BEIR folder: 3 queries, 6 documents."""
    folder = tmp_path / "beir"
    (folder / "qrels").mkdir(parents=True)
    docs = {
        "d1": "The dog barked at the mailman all night.",
        "d2": "A cat sleeps in the sun on the windowsill.",
        "d3": "Interest rates were raised by the central bank.",
        "d4": "The river bank flooded after heavy rain.",
        "d5": "Photosynthesis converts light into chemical energy.",
        "d6": "The violinist played a sonata by Bach.",
    }
    queries = {
        "q1": "noisy dog at night",
        "q2": "monetary policy of banks",
        "q3": "classical music performance",
    }
    (folder / "corpus.jsonl").write_text(
        "".join(f'{{"_id": "{k}", "title": "", "text": "{v}"}}\n' for k, v in docs.items())
    )
    (folder / "queries.jsonl").write_text(
        "".join(f'{{"_id": "{k}", "text": "{v}"}}\n' for k, v in queries.items())
    )
    (folder / "qrels" / "test.tsv").write_text(
        "query-id\tcorpus-id\tscore\nq1\td1\t1\nq2\td3\t1\nq3\td6\t1\n"
    )
    return folder
