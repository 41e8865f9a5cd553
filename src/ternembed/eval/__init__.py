"""Evaluation: built-in tasks from real offline data run through mteb, user data, fidelity, reports."""

from ternembed.eval.tasks import (
    BUILTIN_TASKS,
    TEXT_SUITE,
    ModalityError,
    UnknownTaskError,
    list_tasks,
    load_retrieval_data,
    resolve_task,
)
from ternembed.eval.user_data import EvalDataError

__all__ = [
    "BUILTIN_TASKS",
    "TEXT_SUITE",
    "EvalDataError",
    "ModalityError",
    "UnknownTaskError",
    "list_tasks",
    "load_retrieval_data",
    "resolve_task",
]
