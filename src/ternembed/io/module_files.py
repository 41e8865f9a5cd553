"""Checks of a sentence-transformers folder's module files before sentence-transformers reads them.

sentence-transformers assembles a model from ``modules.json`` and each module's own config file; a
damaged or mistyped one surfaces as a ``TypeError`` or ``AttributeError`` deep inside its loaders.
Here each becomes a CorruptCheckpointError naming the file and what it should hold.
"""

from __future__ import annotations

import json
from pathlib import Path

from ternembed.io.errors import CorruptCheckpointError
from ternembed.io.validate import MODULES_FILENAME, read_json

TRANSFORMER_CONFIG = "sentence_bert_config.json"
OBJECT_FILES = (
    TRANSFORMER_CONFIG,
    "config_sentence_transformers.json",
    "tokenizer_config.json",
    "special_tokens_map.json",
    "tokenizer.json",
)
"""Top-level files that, when present, must each hold one JSON object."""
MODULE_FIELDS = {"idx": int, "name": str, "path": str, "type": str}
FILELESS_MODULES = ("Normalize",)
"""Module types that need no files, so their folder may be absent (sentence-transformers skips it)."""
POOLING_DIMENSION_KEYS = ("embedding_dimension", "word_embedding_dimension")


def check_module_files(folder: Path) -> None:
    """``modules.json`` lists well-formed modules whose folders and config files are there and well-typed.

    Run after :func:`ternembed.io.source_folder.check_json_files`, so every JSON file here parses.
    """
    objects = {name: read_json(folder / name) for name in OBJECT_FILES if (folder / name).is_file()}
    if TRANSFORMER_CONFIG in objects:
        _check_transformer_settings(folder / TRANSFORMER_CONFIG, objects[TRANSFORMER_CONFIG])
    if (folder / "tokenizer.json").is_file():
        _check_tokenizer_file(folder / "tokenizer.json")
    modules_path = folder / MODULES_FILENAME
    if not modules_path.is_file():
        return
    modules = json.loads(modules_path.read_bytes())
    if not isinstance(modules, list) or not modules:
        raise CorruptCheckpointError(
            f"{modules_path} must list the model's modules (a non-empty JSON array of objects); "
            "restore the file from the original model or re-save the model"
        )
    for position, module in enumerate(modules):
        _check_module(folder, modules_path, position, module)


def _check_module(folder: Path, modules_path: Path, position: int, module: object) -> None:
    where = f"{modules_path}: module {position}"
    if not isinstance(module, dict):
        raise CorruptCheckpointError(f"{where} must be a JSON object, found {type(module).__name__}")
    for field, kind in MODULE_FIELDS.items():
        if not isinstance(module.get(field), kind) or isinstance(module.get(field), bool):  # bool is an int
            raise CorruptCheckpointError(f"{where} needs a {kind.__name__} {field!r}, found {module.get(field)!r}")
    if not module["path"]:
        return
    module_folder = folder / module["path"]
    kind = module["type"].rsplit(".", 1)[-1]
    if not module_folder.is_dir() and kind not in FILELESS_MODULES:
        raise CorruptCheckpointError(f"{where} names the folder {str(module_folder)!r}, which is missing")
    config_path = module_folder / "config.json"
    config = read_json(config_path) if config_path.is_file() else None
    if kind == "Pooling":
        dimension = None if config is None else next((config.get(k) for k in POOLING_DIMENSION_KEYS if k in config), None)
        if not _positive_int(dimension):
            raise CorruptCheckpointError(
                f"{config_path} must give the pooling layer's embedding_dimension (a positive integer); "
                "restore the file from the original model or re-save the model"
            )


def _check_transformer_settings(path: Path, settings: dict) -> None:
    """Every setting is one the installed sentence-transformers' Transformer module takes."""
    import inspect

    try:
        from sentence_transformers.base.modules.transformer import Transformer
    except ImportError:  # older sentence-transformers
        from sentence_transformers.models import Transformer

    parameters = inspect.signature(Transformer.__init__).parameters
    takes_any = any(p.kind is inspect.Parameter.VAR_KEYWORD for p in parameters.values())
    unknown = [] if takes_any else sorted(set(settings) - set(parameters) - {"self"})
    if unknown:
        raise CorruptCheckpointError(
            f"{path} has settings the installed sentence-transformers does not know: {', '.join(unknown)}; "
            "restore the file from the original model or re-save the model"
        )
    max_seq_length = settings.get("max_seq_length")
    if max_seq_length is not None and not _positive_int(max_seq_length):
        raise CorruptCheckpointError(f"{path}: max_seq_length must be a positive integer, found {max_seq_length!r}")


def _check_tokenizer_file(path: Path) -> None:
    from tokenizers import Tokenizer

    try:
        Tokenizer.from_file(str(path))
    except Exception as error:  # tokenizers raises a bare Exception for a file it cannot build from
        message = str(error).splitlines()[0] if str(error) else type(error).__name__
        raise CorruptCheckpointError(
            f"{path} is not a usable tokenizer ({message}); restore the file from the original model"
        ) from None


def _positive_int(value: object) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value > 0
