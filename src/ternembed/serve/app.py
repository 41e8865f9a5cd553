"""The FastAPI application: OpenAI and TEI embedding endpoints, search, recommendation, metrics.

One model instance serves every route through one batching worker. Errors use OpenAI's schema
(``{"error": {"message", "type", "param", "code"}}``), and TEI's on TEI routes.
"""

from __future__ import annotations

import base64
import contextlib
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.exceptions import HTTPException as StarletteHTTPException

from ternembed.errors import InvalidArgumentError
from ternembed.serve.batching import BatchingWorker
from ternembed.serve.encoder import TextEncoder
from ternembed.serve.errors import TEI_PATHS, ApiError, error_response
from ternembed.serve.guards import BearerKeyGuard, BodySizeGuard, ConcurrencyGuard
from ternembed.serve.index_store import IndexRegistry
from ternembed.serve.metrics import RequestMetrics, ServerMetrics
from ternembed.serve.schemas import (
    AddDocumentsRequest,
    DeleteDocumentsRequest,
    EmbeddingsRequest,
    EmbedRequest,
    RecommendRequest,
    SearchRequest,
)
from ternembed.serve.service import EmbeddingService

DEFAULT_MAX_BODY_BYTES = 8 * 1024 * 1024


@dataclass
class ServerSettings:
    """What ``ternembed serve`` configures; the defaults are the command's."""

    model_name: str = "ternembed"
    max_batch_tokens: int = 16384
    max_client_batch_size: int = 32
    max_concurrent_requests: int = 512
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    api_key: str | None = None
    batching: bool = True
    indexes: dict[str, Path] = field(default_factory=dict)


def create_app(model, settings: ServerSettings) -> FastAPI:
    """The application serving ``model`` (a loaded SentenceTransformer) and the indexes of ``settings``."""
    encoder = TextEncoder(model)
    if settings.max_batch_tokens < encoder.max_tokens:
        raise InvalidArgumentError(
            f"--max-batch-tokens {settings.max_batch_tokens} is below the model's input length of "
            f"{encoder.max_tokens} tokens; one input would not fit a batch"
        )
    for name, value in (
        ("--max-client-batch-size", settings.max_client_batch_size),
        ("--max-concurrent-requests", settings.max_concurrent_requests),
        ("--max-body-bytes", settings.max_body_bytes),
    ):
        if value < 1:
            raise InvalidArgumentError(f"{name} must be at least 1, got {value}")
    metrics = ServerMetrics()
    worker = BatchingWorker(encoder.embed, settings.max_batch_tokens, metrics, settings.batching)
    service = EmbeddingService(encoder, worker, metrics, settings.max_client_batch_size)
    indexes = IndexRegistry.open(settings.indexes, model)

    @contextlib.asynccontextmanager
    async def lifespan(_app: FastAPI):
        worker.start()
        try:
            yield
        finally:
            worker.stop()
            indexes.checkpoint()

    app = FastAPI(title="ternembed", lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)
    _install_error_handlers(app)
    _install_embedding_routes(app, service, settings, indexes)
    _install_index_routes(app, service, indexes)
    app.add_middleware(ConcurrencyGuard, max_concurrent=settings.max_concurrent_requests, metrics=metrics)
    app.add_middleware(BodySizeGuard, max_bytes=settings.max_body_bytes)
    if settings.api_key:
        app.add_middleware(BearerKeyGuard, key=settings.api_key)
    app.add_middleware(RequestMetrics, metrics=metrics)

    @app.get("/health")
    async def health() -> Response:
        if not worker.alive:
            return JSONResponse({"status": "unavailable"}, status_code=503)
        return JSONResponse({"status": "ok"})

    @app.get("/metrics")
    async def prometheus_metrics() -> Response:
        return Response(metrics.exposition(), media_type="text/plain; version=0.0.4; charset=utf-8")

    return app


def _install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def api_error(request: Request, error: ApiError) -> Response:
        return error_response(error, request.url.path)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, error: RequestValidationError) -> Response:
        problem = error.errors()[0] if error.errors() else {"loc": (), "msg": "invalid request"}
        location = [str(part) for part in problem.get("loc", ()) if part != "body"]
        where = ".".join(location[:1] if location[:1] in (["input"], ["inputs"]) else location)
        if where in ("input", "inputs"):
            message = (
                f"{where} must be a string, a list of strings, a list of token ids or a list of such lists"
            )
        elif not where:
            message = "the request body must be a JSON object"
        else:
            message = f"{where}: {problem.get('msg')}"
        status = 422 if request.url.path in TEI_PATHS else 400
        return error_response(ApiError(status, message, param=where or None), request.url.path)

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, error: StarletteHTTPException) -> Response:
        message = error.detail if isinstance(error.detail, str) else "request refused"
        if error.status_code == 404:
            message = f"no route {request.method} {request.url.path}"
        return error_response(ApiError(error.status_code, message), request.url.path)


def _install_embedding_routes(
    app: FastAPI, service: EmbeddingService, settings: ServerSettings, indexes: IndexRegistry
) -> None:
    async def openai_embeddings(body: EmbeddingsRequest) -> Response:
        vectors, tokens = await service.embed(body.input, truncate=body.truncate, dimensions=body.dimensions)
        if body.encoding_format == "base64":
            data = [base64.b64encode(vector.astype("<f4").tobytes()).decode("ascii") for vector in vectors]
        else:
            data = vectors.tolist()
        return JSONResponse(
            {
                "object": "list",
                "data": [
                    {"object": "embedding", "index": position, "embedding": embedding}
                    for position, embedding in enumerate(data)
                ],
                "model": settings.model_name,
                "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
            }
        )

    app.post("/v1/embeddings")(openai_embeddings)
    app.post("/embeddings")(openai_embeddings)

    @app.post("/embed")
    async def tei_embed(body: EmbedRequest) -> Response:
        vectors, _ = await service.embed(
            body.inputs,
            param="inputs",
            truncate=True if body.truncate is None else body.truncate,
            direction=body.truncation_direction.lower(),
            prompt_name=body.prompt_name,
            normalize=body.normalize,
            dimensions=body.dimensions,
        )
        return JSONResponse(vectors.tolist())

    @app.get("/info")
    async def info() -> Response:
        encoder = service.encoder
        return JSONResponse(
            {
                "model_id": settings.model_name,
                "model_type": {"embedding": {"pooling": "model"}},
                "dimension": encoder.dimension,
                "max_input_length": encoder.max_tokens,
                "max_batch_tokens": settings.max_batch_tokens,
                "max_client_batch_size": settings.max_client_batch_size,
                "max_concurrent_requests": settings.max_concurrent_requests,
                "batching": settings.batching,
                "prompts": encoder.prompts,
                "indexes": indexes.describe(),
                "version": _version(),
            }
        )


def _install_index_routes(app: FastAPI, service: EmbeddingService, indexes: IndexRegistry) -> None:
    async def embed_for(index, texts: list[str], kind: str, param: str) -> np.ndarray:
        prompt = kind if kind in service.encoder.prompts else None
        vectors, _ = await service.embed(
            texts, param=param, prompt_name=prompt, normalize=index.similarity == "cosine"
        )
        return vectors

    @app.post("/v1/search")
    async def search(body: SearchRequest) -> Response:
        index = indexes.get(body.index)
        if (body.queries is None) == (body.vectors is None):
            raise ApiError(
                400, "give either queries (texts) or vectors, not both or neither", param="queries"
            )
        if body.queries is not None:
            vectors = await embed_for(index, body.queries, "query", "queries")
        else:
            vectors = index.check_query_vectors(body.vectors)
        results = await run_in_threadpool(index.search, vectors, body.k, body.filter)
        return JSONResponse({"index": body.index, "results": results})

    @app.post("/v1/recommend")
    async def recommend(body: RecommendRequest) -> Response:
        index = indexes.get(body.index)
        results = await run_in_threadpool(index.recommend, body.positive, body.negative, body.k, body.filter)
        return JSONResponse({"index": body.index, "strategy": "average_vector", "results": results})

    @app.post("/v1/indexes/{name}/documents")
    async def add_documents(name: str, body: AddDocumentsRequest) -> Response:
        index = indexes.get(name)
        if not body.documents:
            raise ApiError(400, "documents must not be an empty list", param="documents")
        index.check_new([document.id for document in body.documents])
        vectors = await embed_for(
            index, [document.text for document in body.documents], "document", "documents"
        )
        await run_in_threadpool(index.add, body.documents, vectors)
        return JSONResponse({"index": name, "added": len(body.documents), "count": len(index)})

    @app.delete("/v1/indexes/{name}/documents")
    async def delete_documents(name: str, body: DeleteDocumentsRequest) -> Response:
        index = indexes.get(name)
        if not body.ids:
            raise ApiError(400, "ids must not be an empty list", param="ids")
        await run_in_threadpool(index.remove, body.ids)
        return JSONResponse({"index": name, "deleted": len(body.ids), "count": len(index)})

    @app.get("/v1/indexes/{name}/documents/{doc_id}")
    async def get_document(name: str, doc_id: str) -> Response:
        return JSONResponse(await run_in_threadpool(indexes.get(name).document, doc_id))


def _version() -> str:
    from ternembed import __version__

    return __version__
