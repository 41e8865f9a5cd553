"""Reader of the Fashion-MNIST IDX files installed by Debian's ``dataset-fashion-mnist`` package."""

from __future__ import annotations

import gzip
import os
from pathlib import Path
from typing import Literal

import numpy as np

from ternembed.errors import InvalidArgumentError, TernembedError

FASHION_MNIST_DIR_ENV = "TERNEMBED_FASHION_MNIST_DIR"
"""Environment variable that overrides the folder (default ``/usr/share/datasets/fashion-mnist``)."""

DEFAULT_FASHION_MNIST_DIR = Path("/usr/share/datasets/fashion-mnist")
SPLIT_FILES = {
    "train": ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    "test": ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
}
CLASS_NAMES = (
    "T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot",
)  # fmt: skip

Split = Literal["train", "test"]

_IDX_DTYPES = {
    0x08: np.uint8,
    0x09: np.int8,
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
}


class FashionMnistNotFoundError(TernembedError, FileNotFoundError):
    """The Fashion-MNIST files are not installed."""


def fashion_mnist_dir(root: str | os.PathLike | None = None) -> Path:
    """The Fashion-MNIST folder: ``root``, else ``$TERNEMBED_FASHION_MNIST_DIR``, else the Debian path.

    Raises:
        FashionMnistNotFoundError: When a file is missing, naming the apt package to install.
    """
    folder = Path(root or os.environ.get(FASHION_MNIST_DIR_ENV) or DEFAULT_FASHION_MNIST_DIR)
    missing = [name for files in SPLIT_FILES.values() for name in files if not (folder / name).is_file()]
    if missing:
        raise FashionMnistNotFoundError(
            f"Fashion-MNIST not found: {folder} lacks {', '.join(missing)}; install it with "
            f"'apt-get install dataset-fashion-mnist' or set {FASHION_MNIST_DIR_ENV} to a folder holding the IDX files"
        )
    return folder


def read_idx(path: str | os.PathLike) -> np.ndarray:
    """Read an IDX file (optionally gzip-compressed) into an array of its declared type and shape.

    Raises:
        ValueError: When the header is not IDX or the payload size does not match it.
    """
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as handle:
        data = handle.read()
    if len(data) < 4 or data[0] != 0 or data[1] != 0 or data[2] not in _IDX_DTYPES:
        raise InvalidArgumentError(f"{path} is not an IDX file (magic bytes {data[:4].hex()!r})")
    dtype, ndim = np.dtype(_IDX_DTYPES[data[2]]), data[3]
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    payload = data[4 + 4 * ndim :]
    expected = int(np.prod(shape)) * dtype.itemsize
    if len(payload) != expected:
        raise InvalidArgumentError(
            f"{path}: header declares shape {shape} ({expected} bytes) but holds {len(payload)} bytes"
        )
    return np.frombuffer(payload, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))


def load_fashion_mnist(
    split: Split = "test", root: str | os.PathLike | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Images ``uint8 [n, 28, 28]`` and labels ``int64 [n]`` of the ``train`` (60k) or ``test`` (10k) split.

    Raises:
        ValueError: When ``split`` is unknown or image and label counts differ.
    """
    if split not in SPLIT_FILES:
        raise InvalidArgumentError(f"unknown Fashion-MNIST split {split!r}; use one of {sorted(SPLIT_FILES)}")
    folder = fashion_mnist_dir(root)
    image_file, label_file = SPLIT_FILES[split]
    images, labels = read_idx(folder / image_file), read_idx(folder / label_file)
    if images.ndim != 3 or labels.ndim != 1 or len(images) != len(labels):
        raise InvalidArgumentError(
            f"{folder}: {image_file} has shape {images.shape} but {label_file} has shape {labels.shape}"
        )
    return images, labels.astype(np.int64)
