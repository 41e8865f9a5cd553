"""From request inputs to embeddings: validation, tokenization, the batching worker, dimensions, norms."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Sequence

import numpy as np
from starlette.concurrency import run_in_threadpool

from ternembed.serve.batching import BatchingWorker
from ternembed.serve.encoder import TextEncoder, TruncationDirection, normalize_rows
from ternembed.serve.errors import ApiError
from ternembed.serve.metrics import ServerMetrics


class EmbeddingService:
    """Embeds what clients send with the server's one model, through the shared batching worker."""

    def __init__(
        self, encoder: TextEncoder, worker: BatchingWorker, metrics: ServerMetrics, max_client_batch_size: int
    ) -> None:
        self.encoder = encoder
        self.worker = worker
        self.metrics = metrics
        self.max_client_batch_size = int(max_client_batch_size)
        self._tokenizer_lock = threading.Lock()

    async def embed(
        self,
        inputs: str | Sequence,
        *,
        param: str = "input",
        truncate: bool = True,
        direction: TruncationDirection = "right",
        prompt_name: str | None = None,
        normalize: bool = True,
        dimensions: int | None = None,
    ) -> tuple[np.ndarray, int]:
        """float32 embeddings ``[n, d]`` of a string, strings, token ids or lists of ids, and the token count."""
        texts, token_lists = self._split(inputs, param)
        count = len(texts) if texts is not None else len(token_lists)
        if count > self.max_client_batch_size:
            raise ApiError(
                413,
                f"{param} holds {count} inputs but the server takes at most {self.max_client_batch_size} "
                "per request; split it",
                param=param,
            )
        if dimensions is not None and dimensions > self.encoder.dimension:
            raise ApiError(
                400,
                f"dimensions {dimensions} is larger than the model's {self.encoder.dimension}",
                param="dimensions",
            )
        start = time.perf_counter()
        if texts is not None:
            token_lists = await run_in_threadpool(self._tokenize, texts, prompt_name)
        else:
            self.encoder.check_token_ids(token_lists)
        sequences = [self.encoder.sequence(tokens, truncate, direction) for tokens in token_lists]
        self.metrics.tokenization_seconds.observe(time.perf_counter() - start)
        try:
            vectors = await asyncio.wrap_future(self.worker.submit(sequences))
        except RuntimeError as error:
            raise ApiError(503, str(error)) from None
        tokens = sum(len(sequence) for sequence in sequences)
        self.metrics.input_tokens.inc(tokens)
        if dimensions is not None:
            vectors = vectors[:, :dimensions]
        if normalize:
            vectors = normalize_rows(vectors)
        return np.ascontiguousarray(vectors, dtype=np.float32), tokens

    def _tokenize(self, texts: list[str], prompt_name: str | None) -> list[list[int]]:
        with self._tokenizer_lock:  # a fast tokenizer refuses calls from two threads at once
            return self.encoder.tokenize(texts, prompt_name)

    @staticmethod
    def _split(inputs: str | Sequence, param: str) -> tuple[list[str] | None, list[list[int]] | None]:
        """(texts, None) or (None, token id lists), refusing empty lists and empty strings."""
        if isinstance(inputs, str):
            inputs = [inputs]
        if len(inputs) == 0:
            raise ApiError(400, f"{param} must not be an empty list", param=param)
        if all(isinstance(item, int) for item in inputs):
            return None, [list(inputs)]
        if all(isinstance(item, str) for item in inputs):
            for position, text in enumerate(inputs):
                if not text:
                    raise ApiError(400, f"{param}[{position}] is an empty string", param=param)
            return list(inputs), None
        for position, tokens in enumerate(inputs):
            if not isinstance(tokens, list):
                raise ApiError(400, f"{param} mixes strings and token ids", param=param)
            if not tokens:
                raise ApiError(400, f"{param}[{position}] is an empty list of token ids", param=param)
        return None, [list(tokens) for tokens in inputs]
