"""Image inputs: turn PIL images, arrays, image files, a folder, an .npy array or IDX files into PIL images.

Every reader names the file it could not use, so a user with one broken image in a folder of ten
thousand knows which one to fix.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from ternembed.data.fashion_mnist import read_idx
from ternembed.errors import TernembedError

IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".gif", ".webp", ".tif", ".tiff", ".ppm", ".pgm")
"""File endings read as images when a folder is given."""

ImageLike = Image.Image | np.ndarray | str | os.PathLike
ImageBatch = Sequence[ImageLike] | np.ndarray


class ImageInputError(TernembedError, ValueError):
    """Input given to an image encoder is not an image, or an image file cannot be read."""


def open_image(path: str | os.PathLike) -> Image.Image:
    """Open one image file fully (so a truncated file fails here, naming it)."""
    try:
        with Image.open(path) as image:
            image.load()
            return image.copy()
    except FileNotFoundError:
        raise ImageInputError(f"image file {str(path)!r} does not exist") from None
    except (UnidentifiedImageError, OSError, SyntaxError) as error:
        raise ImageInputError(f"cannot read image file {str(path)!r}: {error}") from None


def array_to_image(array: np.ndarray, where: str = "array") -> Image.Image:
    """A PIL image from a uint8 ``[H, W]`` (grayscale) or ``[H, W, C]`` (C = 1, 3 or 4) array."""
    if array.dtype != np.uint8:
        raise ImageInputError(f"{where}: image arrays must be uint8 (0..255), got {array.dtype}")
    if array.ndim == 3 and array.shape[-1] == 1:
        array = array[..., 0]
    if array.ndim == 2:
        return Image.fromarray(array, mode="L")
    if array.ndim == 3 and array.shape[-1] in (3, 4):
        return Image.fromarray(array, mode="RGB" if array.shape[-1] == 3 else "RGBA")
    raise ImageInputError(
        f"{where}: an image array must be [H, W] or [H, W, C] with C in (1, 3, 4), got shape {array.shape}"
    )


def to_pil_images(images: ImageBatch) -> list[Image.Image]:
    """PIL images from a list of PIL images / arrays / file paths, or a uint8 ``[N, H, W(, C)]`` array.

    Raises:
        ImageInputError: Text instead of images, an unreadable file (named), or an array of the wrong shape.
    """
    if isinstance(images, (str, Image.Image)):
        images = [images]
    if isinstance(images, np.ndarray):
        if images.ndim not in (3, 4):
            raise ImageInputError(
                f"an image batch array must be [N, H, W] or [N, H, W, C], got shape {images.shape}"
            )
        return [array_to_image(image, f"array item {i}") for i, image in enumerate(images)]
    pil_images = []
    for position, item in enumerate(images):
        if isinstance(item, Image.Image):
            pil_images.append(item)
        elif isinstance(item, np.ndarray):
            pil_images.append(array_to_image(item, f"item {position}"))
        elif isinstance(item, (str, os.PathLike)):
            if isinstance(item, str) and not _looks_like_image_path(item):
                raise ImageInputError(
                    f"item {position} is text ({item[:60]!r}) but this is an image encoder: pass PIL images, "
                    "uint8 arrays or image file paths"
                )
            pil_images.append(open_image(item))
        else:
            raise ImageInputError(
                f"item {position} has type {type(item).__name__}; an image encoder takes PIL images, "
                "uint8 arrays or image file paths"
            )
    return pil_images


def _looks_like_image_path(text: str) -> bool:
    return text.lower().endswith(IMAGE_SUFFIXES) or Path(text).is_file()


def read_image_folder(folder: str | os.PathLike) -> tuple[list[Image.Image], list[str]]:
    """All images under ``folder`` (recursive, sorted by path) and their relative paths."""
    root = Path(folder)
    paths = sorted(p for p in root.rglob("*") if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    if not paths:
        raise ImageInputError(f"folder {str(root)!r} holds no image files ({', '.join(IMAGE_SUFFIXES)})")
    return [open_image(p) for p in paths], [str(p.relative_to(root)) for p in paths]


def load_image_array(path: str | os.PathLike) -> np.ndarray:
    """A uint8 ``[N, H, W]`` or ``[N, H, W, C]`` image array from an ``.npy`` file or an IDX file (``.gz`` or not)."""
    path = Path(path)
    if not path.is_file():
        raise ImageInputError(f"image array file {str(path)!r} does not exist")
    if path.suffix == ".npy":
        try:
            array = np.load(path, allow_pickle=False)
        except ValueError as error:
            raise ImageInputError(f"cannot read {str(path)!r} as a numpy array: {error}") from None
    else:
        try:
            array = read_idx(path)
        except ValueError as error:
            raise ImageInputError(str(error)) from None
    if array.dtype != np.uint8 or array.ndim not in (3, 4):
        raise ImageInputError(
            f"{str(path)!r} holds {array.dtype} of shape {array.shape}; expected uint8 [N, H, W] or [N, H, W, C]"
        )
    return array


def load_images(path: str | os.PathLike) -> list[Image.Image]:
    """Images from a folder of image files, an ``.npy`` array, an IDX file or a single image file."""
    path = Path(path)
    if path.is_dir():
        return read_image_folder(path)[0]
    if path.suffix.lower() in IMAGE_SUFFIXES:
        return [open_image(path)]
    return to_pil_images(load_image_array(path))


def probe_images(count: int = 4, size: int = 32) -> np.ndarray:
    """Fixed uint8 RGB images ``[count, size, size, 3]`` (seeded noise over gradients) to fingerprint a model."""
    rng = np.random.default_rng(20241123)
    ramp = np.linspace(0, 255, size, dtype=np.float32)
    base = (ramp[None, :, None] + ramp[:, None, None]) / 2
    noise = rng.normal(0, 40, (count, size, size, 3)).astype(np.float32)
    return np.clip(base[None] + noise, 0, 255).astype(np.uint8)
