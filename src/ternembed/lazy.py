"""Packages whose public names are imported on first use (PEP 562), so importing one light module of
a package (or the package itself) loads nothing heavy until a name is used.

An exported name may be the name of a submodule too (``ternembed.distill`` the function and the
package, ``ternembed.io.load``): importing that submodule makes Python bind it on the package, so
the package's class keeps the exported object in that place, as an eager ``from ... import`` would.
"""

from __future__ import annotations

import importlib
import sys
import types
from collections.abc import Callable


class _LazyPackage(types.ModuleType):
    """A package module that does not let a submodule's import replace an exported name."""

    _lazy_exports: dict[str, str]

    def __setattr__(self, name: str, value: object) -> None:
        exported = name in self.__dict__.get("_lazy_exports", {})
        if exported and isinstance(value, types.ModuleType) and value.__name__ == f"{self.__name__}.{name}":
            return
        super().__setattr__(name, value)


def lazy_exports(package: str, exports: dict[str, str]) -> tuple[Callable[[str], object], Callable[[], list[str]]]:
    """``__getattr__`` and ``__dir__`` for ``package``, which exports each name from the module mapped to it."""
    module = sys.modules[package]
    namespace = vars(module)
    namespace["_lazy_exports"] = exports
    module.__class__ = _LazyPackage

    def __getattr__(name: str) -> object:
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        value = getattr(importlib.import_module(exports[name]), name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted({*namespace, *exports} - {"_lazy_exports"})

    return __getattr__, __dir__
