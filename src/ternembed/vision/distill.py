"""The image side of the distillation loop's batch-encoder seam (:class:`ternembed.distill.BatchEncoder`)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import torch
from torch import nn

from ternembed.config import TernaryConfig
from ternembed.distill.encoders import EncoderOutput
from ternembed.distill.run_folder import RUN_CONFIG_FILE
from ternembed.errors import InvalidArgumentError
from ternembed.vision.encoder import ImageEncoder
from ternembed.vision.inputs import ImageLike
from ternembed.vision.io import save_image_encoder
from ternembed.vision.quantize import freeze_image_encoder


class ImageBatchEncoder:
    """Images through an :class:`ImageEncoder`'s own processor; teacher and student share it.

    Items are anything :func:`~ternembed.vision.to_pil_images` accepts one by one (PIL images, uint8
    arrays, image file paths). Every image becomes the same number of patch tokens, so all items
    have length 1 and the attention mask is all ones.
    """

    def __init__(self, encoder: ImageEncoder) -> None:
        self.preprocess = encoder.preprocess

    def lengths(self, items: Sequence[ImageLike]) -> list[int]:
        return [1] * len(items)

    def collate(self, items: Sequence[ImageLike]) -> dict[str, Any]:
        return {"pixel_values": self.preprocess(list(items))}

    def encode(self, model: nn.Module, batch: dict[str, Any], hidden_states: bool = False) -> EncoderOutput:
        features = model(batch["pixel_values"], output_hidden_states=hidden_states)
        layers = features.get("all_layer_embeddings")
        if hidden_states and layers is None:
            raise InvalidArgumentError(
                f"{type(model).__name__} returned no per-layer hidden states; drop the 'layers' loss"
            )
        tokens = features["token_embeddings"]
        return EncoderOutput(
            sentence_embedding=features["sentence_embedding"],
            token_embeddings=tokens,
            attention_mask=torch.ones(tokens.shape[:2], dtype=torch.long, device=tokens.device),
            hidden_states=tuple(layers) if layers is not None else None,
        )


def save_image_student(
    student: ImageEncoder, folder: Path, config: TernaryConfig, run_config: dict[str, Any]
) -> None:
    """Freeze a distilled image student and save it packed, with the run config beside it.

    The image counterpart of the distillation loop's text saver (same arguments, same files).
    """
    freeze_image_encoder(student.cpu(), config)
    save_image_encoder(student, folder, config, base_model=run_config["arguments"]["teacher"])
    (Path(folder) / RUN_CONFIG_FILE).write_text(json.dumps(run_config, indent=2))
