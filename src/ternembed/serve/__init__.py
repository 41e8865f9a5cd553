"""An HTTP server for a ternembed (or any sentence-transformers) model: embeddings, search and recommendations.

``create_app`` builds the FastAPI application (OpenAI- and TEI-compatible embedding endpoints, search and
recommendation over index folders, Prometheus metrics); ``ternembed serve`` runs it on uvicorn.
"""

from ternembed.serve.app import ServerSettings, create_app

__all__ = ["ServerSettings", "create_app"]
