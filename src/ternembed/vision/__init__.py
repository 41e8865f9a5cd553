"""Image encoders: ViT / CLIP vision / DINOv2 / EfficientNet-Lite with ``encode``, ternary 1x1 convolutions, image inputs."""

from ternembed.vision.encoder import POOLINGS, ImageEncoder, UnsupportedVisionModelError
from ternembed.vision.inputs import ImageInputError, load_images, probe_images, to_pil_images
from ternembed.vision.io import load_image_encoder, save_image_encoder
from ternembed.vision.models import is_image_model, load_image_model, quantize_image_model
from ternembed.vision.quantize import freeze_image_encoder, prepare_image_encoder

__all__ = [
    "POOLINGS",
    "ImageEncoder",
    "ImageInputError",
    "UnsupportedVisionModelError",
    "freeze_image_encoder",
    "is_image_model",
    "load_image_encoder",
    "load_image_model",
    "load_images",
    "prepare_image_encoder",
    "probe_images",
    "quantize_image_model",
    "save_image_encoder",
    "to_pil_images",
]
