"""ANN search over ternembed (or any sentence-transformers) embeddings.

``build_index`` streams a JSON-lines corpus into an index folder; ``SearchIndex.load`` opens it and
``search`` answers text queries. Backends (faiss HNSW/IVF/flat, usearch) store float32, int8 or binary
codes behind one protocol; ``bench`` measures them against exact search on a retrieval task.
"""

from ternembed.index.backends import (
    BACKEND_NAMES,
    DEFAULT_BACKEND,
    BackendName,
    VectorBackend,
    create_backend,
)
from ternembed.index.build import build_index
from ternembed.index.corpus import Document, read_corpus
from ternembed.index.errors import (
    CorpusError,
    IndexFormatError,
    IndexMismatchError,
    UnsupportedOperationError,
)
from ternembed.index.model_ref import ModelReference, load_model
from ternembed.index.precision import PRECISIONS, Precision
from ternembed.index.search_index import DEFAULT_RESCORE, SearchIndex

__all__ = [
    "BACKEND_NAMES",
    "DEFAULT_BACKEND",
    "DEFAULT_RESCORE",
    "PRECISIONS",
    "BackendName",
    "CorpusError",
    "Document",
    "IndexFormatError",
    "IndexMismatchError",
    "ModelReference",
    "Precision",
    "SearchIndex",
    "UnsupportedOperationError",
    "VectorBackend",
    "build_index",
    "create_backend",
    "load_model",
    "read_corpus",
]
