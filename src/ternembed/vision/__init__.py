"""Image encoders: ViT / CLIP vision / DINOv2 / EfficientNet-Lite with ``encode``, ternary 1x1 convolutions, image inputs."""

from ternembed.vision.encoder import POOLINGS, ImageEncoder, UnsupportedVisionModelError
from ternembed.vision.inputs import ImageInputError, load_images, to_pil_images

__all__ = [
    "POOLINGS",
    "ImageEncoder",
    "ImageInputError",
    "UnsupportedVisionModelError",
    "load_images",
    "to_pil_images",
]
