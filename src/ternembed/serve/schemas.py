"""Request bodies of every endpoint, checked by pydantic: wrong types and values are 4xx, never 500."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, StrictBool, StrictFloat, StrictInt, StrictStr

MAX_K = 1000
"""Most results one query may ask for."""

TokenIds = list[StrictInt]
Inputs = StrictStr | list[StrictStr] | TokenIds | list[TokenIds]
Number = StrictFloat | StrictInt


class EmbeddingsRequest(BaseModel):
    """OpenAI's ``POST /v1/embeddings`` body (``truncate`` is an extension; default true)."""

    model_config = ConfigDict(extra="ignore")

    input: Inputs
    model: StrictStr | None = None
    encoding_format: Literal["float", "base64"] = "float"
    dimensions: Annotated[StrictInt, Field(ge=1)] | None = None
    user: StrictStr | None = None
    truncate: StrictBool = True


class EmbedRequest(BaseModel):
    """Text Embeddings Inference's ``POST /embed`` body."""

    model_config = ConfigDict(extra="ignore")

    inputs: Inputs
    normalize: StrictBool = True
    truncate: StrictBool | None = None
    truncation_direction: Literal["right", "left", "Right", "Left"] = "right"
    prompt_name: StrictStr | None = None
    dimensions: Annotated[StrictInt, Field(ge=1)] | None = None


Filter = dict[str, Any]
K = Annotated[StrictInt, Field(ge=1, le=MAX_K)]


class SearchRequest(BaseModel):
    """``POST /v1/search``: query texts or query vectors, top ``k`` per query, optional metadata filter."""

    model_config = ConfigDict(extra="forbid")

    index: StrictStr
    queries: list[StrictStr] | None = None
    vectors: list[list[Number]] | None = None
    k: K = 10
    filter: Filter | None = None


class RecommendRequest(BaseModel):
    """``POST /v1/recommend``: documents like the ``positive`` ids and unlike the ``negative`` ones."""

    model_config = ConfigDict(extra="forbid")

    index: StrictStr
    positive: list[StrictStr]
    negative: list[StrictStr] = []
    k: K = 10
    filter: Filter | None = None


class DocumentIn(BaseModel):
    """One document to add: a new id, its text, and any JSON object as metadata."""

    model_config = ConfigDict(extra="forbid")

    id: Annotated[StrictStr, Field(min_length=1)]
    text: StrictStr
    metadata: dict[str, Any] = {}


class AddDocumentsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    documents: list[DocumentIn]


class DeleteDocumentsRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    ids: list[StrictStr]
