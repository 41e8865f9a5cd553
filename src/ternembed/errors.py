"""The common base of every error ternembed raises on purpose.

Each error class also keeps the builtin base it always had (``ValueError``, ``FileNotFoundError``, ...),
so ``except ValueError`` in user code keeps working, while ``except ternembed.TernembedError`` catches
every problem ternembed reports and nothing else.
"""

from __future__ import annotations


class TernembedError(Exception):
    """A problem ternembed detected and describes in its message (bad input, missing file, corrupt data)."""


class InvalidArgumentError(TernembedError, ValueError):
    """An argument or input value is outside what the function accepts (the message says what is)."""
