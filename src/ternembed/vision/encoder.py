"""ImageEncoder: a Hugging Face vision backbone + its image processor + pooling, with ``encode``.

It mirrors ``SentenceTransformer.encode`` for images, so the evaluation, index and benchmark code
can treat text and image encoders alike. The wrapped backbone is a plain ``nn.Module``, so
:func:`ternembed.prepare` / :func:`ternembed.freeze` work on the encoder in place.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import torch
from torch import nn
from transformers import CLIPModel
from transformers.image_processing_utils import BaseImageProcessor

from ternembed.errors import InvalidArgumentError, TernembedError
from ternembed.vision.inputs import ImageBatch, to_pil_images
from ternembed.vision.processor import default_image_processor, pixel_values

Pooling = Literal["cls", "mean", "pooler"]
POOLINGS: tuple[str, ...] = ("cls", "mean", "pooler")
SUPPORTED_MODEL_TYPES = ("vit", "clip_vision_model", "dinov2", "efficientnet_lite")


class UnsupportedVisionModelError(TernembedError, TypeError):
    """The model given to :class:`ImageEncoder` is not a vision backbone we know how to pool."""


def vision_backbone(model: nn.Module) -> nn.Module:
    """The image tower of ``model``: itself for ViT / CLIPVision / DINOv2, ``model.vision_model`` for CLIP."""
    if isinstance(model, CLIPModel):
        return model.vision_model
    model_type = getattr(getattr(model, "config", None), "model_type", None)
    if model_type not in SUPPORTED_MODEL_TYPES:
        raise UnsupportedVisionModelError(
            f"{type(model).__name__} (model_type {model_type!r}) is not a supported vision encoder; "
            f"supported: ViTModel, CLIPVisionModel, CLIPModel (vision side), Dinov2Model, EfficientNet-Lite"
        )
    return model


class ImageEncoder(nn.Module):
    """Images in, one embedding per image out.

    Args:
        model: a ``ViTModel``, ``CLIPVisionModel``, ``CLIPModel`` (its vision side is used),
            ``Dinov2Model``, or any module with a ``config`` whose forward takes ``pixel_values`` and
            returns ``last_hidden_state`` (and ``pooler_output`` for ``pooling="pooler"``).
        processor: the model's image processor; built from the config when omitted.
        pooling: ``"cls"`` (first token of the last hidden state), ``"mean"`` (mean over all tokens)
            or ``"pooler"`` (the model's own pooled output, e.g. CLIP's post-layernorm CLS).
    """

    modalities: tuple[str, ...] = ("image",)
    """What this encoder takes (the evaluation suite checks it against a task's modality)."""
    similarity_fn_name = "cosine"
    """How embeddings are compared (as ``SentenceTransformer.similarity_fn_name``; ANN indexes read it)."""

    def __init__(
        self, model: nn.Module, processor: BaseImageProcessor | None = None, pooling: Pooling = "cls"
    ) -> None:
        super().__init__()
        if pooling not in POOLINGS:
            raise InvalidArgumentError(f"pooling must be one of {list(POOLINGS)}, got {pooling!r}")
        self.model = vision_backbone(model)
        self.processor = processor or default_image_processor(self.config)
        self.pooling = pooling

    @property
    def config(self):  # noqa: ANN201 - a transformers PretrainedConfig
        return self.model.config

    @property
    def num_channels(self) -> int:
        return int(getattr(self.config, "num_channels", 3))

    def get_sentence_embedding_dimension(self) -> int:
        """Embedding width (named as in sentence-transformers so callers need not special-case images)."""
        return int(self.config.hidden_size)

    def preprocess(self, images: ImageBatch) -> torch.Tensor:
        """``pixel_values`` ``[N, C, H, W]`` for a batch of images (see :func:`to_pil_images`)."""
        pil_images = to_pil_images(images)
        if not pil_images:
            size = int(self.config.image_size)
            return torch.zeros(0, self.num_channels, size, size)
        return pixel_values(self.processor, pil_images, self.num_channels)

    def pool(self, outputs) -> torch.Tensor:  # noqa: ANN001 - a transformers ModelOutput
        """One vector per image from the backbone's outputs, by ``self.pooling``."""
        if self.pooling == "pooler":
            if getattr(outputs, "pooler_output", None) is None:
                raise InvalidArgumentError(
                    f"{type(self.model).__name__} has no pooler output; use pooling='cls' or 'mean'"
                )
            return outputs.pooler_output
        hidden = outputs.last_hidden_state
        return hidden[:, 0] if self.pooling == "cls" else hidden.mean(dim=1)

    def forward(
        self, pixel_values: torch.Tensor, output_hidden_states: bool = False
    ) -> dict[str, torch.Tensor]:
        """Features of preprocessed ``pixel_values``, named as sentence-transformers names them.

        Returns:
            ``sentence_embedding`` ``[N, dim]`` (pooled), ``token_embeddings`` ``[N, tokens, hidden]``
            (the last hidden state, what the paper's distillation loss matches) and, when asked,
            ``all_layer_embeddings`` (every layer's hidden states, embedding output first).
        """
        outputs = self.model(pixel_values=pixel_values, output_hidden_states=output_hidden_states)
        features = {"sentence_embedding": self.pool(outputs), "token_embeddings": outputs.last_hidden_state}
        if output_hidden_states and getattr(outputs, "hidden_states", None) is not None:
            features["all_layer_embeddings"] = outputs.hidden_states
        return features

    @torch.inference_mode()
    def encode(
        self,
        images: ImageBatch,
        batch_size: int = 32,
        normalize_embeddings: bool = False,
        convert_to_numpy: bool = True,
        show_progress_bar: bool = False,
    ) -> np.ndarray | torch.Tensor:
        """Embeddings ``[N, dim]`` of PIL images, uint8 arrays ``[N, H, W(, C)]`` or image file paths.

        Images of any size and mode are converted and resized by the model's processor; an empty
        input returns an empty ``(0, dim)`` array. Text raises :class:`~ternembed.vision.ImageInputError`.
        """
        if batch_size < 1:
            raise InvalidArgumentError(f"batch_size must be at least 1, got {batch_size}")
        was_training = self.training
        self.eval()
        pil_images = to_pil_images(images)
        starts = range(0, len(pil_images), batch_size)
        if show_progress_bar:
            from tqdm.auto import tqdm

            starts = tqdm(starts, desc="Encoding images", unit="batch")
        chunks = [
            self(self.preprocess(pil_images[start : start + batch_size]))["sentence_embedding"]
            for start in starts
        ]
        self.train(was_training)
        dim = self.get_sentence_embedding_dimension()
        embeddings = torch.cat(chunks).float() if chunks else torch.zeros(0, dim)
        if normalize_embeddings:
            embeddings = nn.functional.normalize(embeddings, dim=-1)
        return embeddings.numpy() if convert_to_numpy else embeddings

    def encode_query(self, images: ImageBatch, **kwargs) -> np.ndarray | torch.Tensor:  # noqa: ANN003
        """Same as :meth:`encode` (query by example); named as sentence-transformers names it."""
        return self.encode(images, **kwargs)

    def encode_document(self, images: ImageBatch, **kwargs) -> np.ndarray | torch.Tensor:  # noqa: ANN003
        """Same as :meth:`encode`; named as sentence-transformers names it."""
        return self.encode(images, **kwargs)
