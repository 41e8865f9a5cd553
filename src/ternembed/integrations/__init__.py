"""ternembed models inside vector databases: Chroma, LanceDB and Qdrant.

Each database module (``chroma``, ``lancedb``, ``qdrant``) imports its database only when used, so
``import ternembed`` never needs them; install them with ``pip install ternembed[integrations]``.
``ingest.write_corpus`` fills a collection of any of them from a JSON-lines corpus (``ternembed index
--backend chroma|lancedb|qdrant``).
"""

DATABASE_NAMES: tuple[str, ...] = ("chroma", "lancedb", "qdrant")
"""Vector databases ``ternembed index --backend`` writes into."""
