"""Which model an index belongs to: loading it, encoding with it, and recognising it again later.

An index stores the model's name or path, its embedding dimension and similarity, and the embeddings
of a few fixed probe texts. A model whose probe embeddings differ (cosine below
``FINGERPRINT_MIN_COSINE``) is another model, and searching with it is refused.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Sequence
from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, Literal

import numpy as np

from ternembed.errors import InvalidArgumentError
from ternembed.index.errors import IndexMismatchError

Similarity = Literal["cosine", "dot"]
PROBE_TEXTS = (
    "A quick brown fox jumps over the lazy dog.",
    "Ternary weights take one of three values.",
    "Where is the nearest train station?",
    "photosynthesis converts light into chemical energy",
)
FINGERPRINT_MIN_COSINE = 0.999
"""Probe embeddings of the same model agree far above this; a different (even distilled) one falls below."""
TERNARY_CONFIG_FILE = "ternary_config.json"


def load_model(name_or_path: str | os.PathLike):
    """A packed folder (``ternembed.load``), an image model, a local text folder or a hub id."""
    if (Path(name_or_path) / TERNARY_CONFIG_FILE).is_file():
        import ternembed

        return ternembed.load(str(name_or_path))
    from ternembed.vision.models import is_image_model, load_image_model

    if is_image_model(name_or_path):
        return load_image_model(name_or_path)
    from ternembed.models import load_sentence_transformer

    return load_sentence_transformer(name_or_path)


def probe_embeddings(model) -> np.ndarray:
    """Embeddings of the fixed probes: texts for text models, synthetic images for image-only encoders."""
    if "text" in getattr(model, "modalities", ("text",)):
        return encode_texts(model, PROBE_TEXTS, "document")
    from ternembed.vision.inputs import probe_images

    return encode_texts(model, probe_images(), "document")


def model_similarity(model) -> Similarity:
    """``cosine`` (vectors are L2-normalized, then compared by inner product) or ``dot``."""
    name = getattr(model, "similarity_fn_name", None) or "cosine"
    if name not in ("cosine", "dot"):
        raise InvalidArgumentError(
            f"the model's similarity function is {name!r}; ANN indexes here support 'cosine' and 'dot' only"
        )
    return name  # type: ignore[return-value]


def encode_texts(
    model, texts: Sequence, kind: Literal["query", "document"], batch_size: int = 32
) -> np.ndarray:
    """float32 ``[n, d]`` embeddings of texts (or images, for image encoders), normalized for cosine
    models, with the model's query/document prompts."""
    encode = model.encode_query if kind == "query" else model.encode_document
    embeddings = encode(
        list(texts),
        batch_size=batch_size,
        show_progress_bar=False,
        convert_to_numpy=True,
        normalize_embeddings=model_similarity(model) == "cosine",
    )
    return np.asarray(embeddings, dtype=np.float32)


@dataclass(frozen=True)
class ModelReference:
    """What an index remembers about its model."""

    name_or_path: str | None
    dimension: int
    similarity: Similarity
    fingerprint: str
    probe_embeddings: list[list[float]]
    truncate_dim: int | None = None
    relative_path: str | None = None
    """The model folder relative to the index folder (None for a hub name or an in-memory model)."""

    @classmethod
    def from_model(cls, model, name_or_path: str | os.PathLike | None = None) -> ModelReference:
        """Describe ``model``; ``name_or_path`` is how to load it again (None for an in-memory model)."""
        probes = probe_embeddings(model)
        rounded = np.round(probes, 4).astype(np.float32)
        return cls(
            name_or_path=_portable(name_or_path),
            dimension=int(probes.shape[1]),
            similarity=model_similarity(model),
            fingerprint=hashlib.sha256(rounded.tobytes()).hexdigest()[:16],
            probe_embeddings=rounded.tolist(),
            truncate_dim=getattr(model, "truncate_dim", None),
        )

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> ModelReference:
        """Inverse of :meth:`to_dict`."""
        return cls(**data)

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready fields."""
        return asdict(self)

    def relative_to(self, index_folder: Path) -> ModelReference:
        """This reference with the model folder also recorded relative to ``index_folder``."""
        if self.name_or_path is None or not Path(self.name_or_path).is_dir():
            return self
        target = Path(index_folder).expanduser().absolute()
        return replace(self, relative_path=os.path.relpath(Path(self.name_or_path).resolve(), target))

    def locate(self, index_folder: Path) -> str:
        """Where to load the model for an index in ``index_folder``: the folder recorded relative to the
        index when it exists (the two were moved together), else the recorded name or absolute path."""
        if self.name_or_path is None:
            raise InvalidArgumentError(f"{index_folder} was built with an in-memory model; pass model= to load it")
        if self.relative_path is not None:
            beside = Path(index_folder).absolute() / self.relative_path
            if beside.is_dir():
                return str(beside.resolve())
        if self.relative_path is not None and not Path(self.name_or_path).exists():
            raise FileNotFoundError(
                f"the model of index {str(index_folder)!r} is neither at {self.name_or_path!r} nor at "
                f"{self.relative_path!r} relative to the index; pass the model explicitly"
            )
        return self.name_or_path

    def check(self, model) -> None:
        """Raise IndexMismatchError unless ``model`` embeds the probes as the indexed model did."""
        probes = probe_embeddings(model)
        if probes.shape[1] != self.dimension:
            raise IndexMismatchError(
                f"the model gives {probes.shape[1]}-dimensional embeddings but the index was built with "
                f"{self.dimension} dimensions by {self.name_or_path or 'an in-memory model'}; "
                "search with that model or rebuild the index"
            )
        stored = np.asarray(self.probe_embeddings, dtype=np.float32)
        cosines = np.sum(_unit(probes) * _unit(stored), axis=1)
        if cosines.min() < FINGERPRINT_MIN_COSINE:
            raise IndexMismatchError(
                f"this model is not the one the index was built with ({self.name_or_path or 'an in-memory model'}, "
                f"fingerprint {self.fingerprint}): probe embeddings agree only to cosine {cosines.min():.4f} "
                f"(< {FINGERPRINT_MIN_COSINE}); search with that model or rebuild the index"
            )


def _unit(vectors: np.ndarray) -> np.ndarray:
    return vectors / np.maximum(np.linalg.norm(vectors, axis=1, keepdims=True), 1e-12)


def _portable(name_or_path: str | os.PathLike | None) -> str | None:
    """Absolute path for an existing local folder, else the name unchanged."""
    if name_or_path is None:
        return None
    path = Path(name_or_path).expanduser()
    return str(path.resolve()) if path.exists() else str(name_or_path)
