"""ANN backends behind :class:`VectorBackend`, chosen by name."""

from __future__ import annotations

import inspect
from typing import Any, Literal, get_args

from ternembed.errors import InvalidArgumentError
from ternembed.index.backends.base import VectorBackend
from ternembed.index.backends.faiss_backends import FaissFlat, FaissHNSW, FaissIVF
from ternembed.index.backends.usearch_backend import USearchHNSW
from ternembed.index.precision import Precision

BackendName = Literal["faiss-hnsw", "faiss-ivf", "faiss-flat", "usearch"]
BACKEND_NAMES: tuple[str, ...] = get_args(BackendName)
DEFAULT_BACKEND: BackendName = "faiss-hnsw"
_CLASSES = {cls.name: cls for cls in (FaissHNSW, FaissIVF, FaissFlat, USearchHNSW)}


def backend_class(name: str) -> type:
    """The backend class registered as ``name``, or a ValueError listing the choices."""
    if name not in _CLASSES:
        raise InvalidArgumentError(f"unknown backend {name!r}; choose one of {', '.join(BACKEND_NAMES)}")
    return _CLASSES[name]


def backend_options(name: str) -> tuple[str, ...]:
    """Build and search options the backend ``name`` accepts (``m``, ``ef_construction``, ``nlist``, ...)."""
    signature = inspect.signature(backend_class(name))
    return tuple(option for option in signature.parameters if option not in ("dimension", "precision"))


def create_backend(
    name: BackendName, dimension: int, precision: Precision, expected_count: int | None = None, **params: Any
) -> VectorBackend:
    """A new empty backend. ``expected_count`` sizes IVF lists; ``params`` are build and search options."""
    cls = backend_class(name)
    if cls is FaissIVF:
        params.setdefault("expected_count", expected_count)
    accepted = backend_options(name)
    unknown = sorted(set(params) - set(accepted))
    if unknown:
        raise InvalidArgumentError(
            f"backend {name!r} does not accept option {unknown[0]!r}; its options are {', '.join(accepted) or 'none'}"
        )
    return cls(dimension, precision, **params)


__all__ = [
    "BACKEND_NAMES",
    "DEFAULT_BACKEND",
    "BackendName",
    "FaissFlat",
    "FaissHNSW",
    "FaissIVF",
    "USearchHNSW",
    "VectorBackend",
    "backend_class",
    "backend_options",
    "create_backend",
]
