"""ANN search over ternembed (or any sentence-transformers) embeddings.

``build_index`` streams a corpus (JSON lines, CSV, Parquet, datasets) into an index folder;
``SearchIndex.load`` opens it and ``search`` answers text queries. Backends (faiss HNSW/IVF/flat,
usearch) store float32, int8 or binary codes behind one protocol; ``bench`` measures them against
exact search on a retrieval task. The names below are imported on first use, so importing one small
module of the package (its constants, for the command line) loads nothing heavy.
"""

from __future__ import annotations

from ternembed.lazy import lazy_exports

_EXPORTS = {
    "BACKEND_NAMES": "ternembed.index.backends",
    "DEFAULT_BACKEND": "ternembed.index.backends",
    "BackendName": "ternembed.index.backends",
    "VectorBackend": "ternembed.index.backends",
    "create_backend": "ternembed.index.backends",
    "build_index": "ternembed.index.build",
    "Document": "ternembed.index.corpus",
    "read_corpus": "ternembed.index.corpus",
    "CorpusError": "ternembed.index.errors",
    "IndexFormatError": "ternembed.index.errors",
    "IndexMismatchError": "ternembed.index.errors",
    "UnsupportedOperationError": "ternembed.index.errors",
    "ModelReference": "ternembed.index.model_ref",
    "load_model": "ternembed.index.model_ref",
    "PRECISIONS": "ternembed.index.precision",
    "Precision": "ternembed.index.precision",
    "DEFAULT_RESCORE": "ternembed.index.search_index",
    "SearchIndex": "ternembed.index.search_index",
}

__all__ = sorted(_EXPORTS)


__getattr__, __dir__ = lazy_exports(__name__, _EXPORTS)
