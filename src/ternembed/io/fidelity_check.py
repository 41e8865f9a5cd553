"""A quick fidelity check: mean cosine between a quantized model's embeddings and the original's.

Uses a few hundred built-in English sentences, so it runs offline in seconds. It is a smoke test of
quantization damage, not an evaluation (that lives in ``ternembed.eval``).
"""

from __future__ import annotations

import itertools

import torch
from torch import nn

_SUBJECTS = (
    "The doctor",
    "My neighbour",
    "A small child",
    "The new manager",
    "Our football team",
    "The old fisherman",
    "A tourist from Spain",
    "The software engineer",
    "The city council",
    "A hungry cat",
)
_ACTIONS = (
    "booked a table at the Italian restaurant",
    "fixed the broken bicycle in the garage",
    "wrote a long report about climate change",
    "lost the keys somewhere in the park",
    "is learning to play the piano",
    "planted tomatoes and beans in the garden",
    "missed the last train home",
    "asked how to reset the router password",
    "won the regional chess tournament",
    "complained about the noise from the construction site",
    "is reading a book on ancient Rome",
    "painted the kitchen a pale shade of blue",
    "found a cheaper flight to Berlin",
    "forgot to pay the electricity bill",
    "adopted a puppy from the shelter",
)
_CONTEXTS = ("yesterday", "last weekend", "this morning", "after the storm")
_STANDALONE = (
    "How do I convert Celsius to Fahrenheit?",
    "What is the capital of Australia?",
    "Best practices for securing a home wifi network.",
    "Symptoms of vitamin D deficiency include fatigue and bone pain.",
    "The stock market fell sharply after the interest rate announcement.",
    "Photosynthesis converts light energy into chemical energy.",
    "Recipe: mix flour, eggs and milk, then fry in a hot pan.",
    "The museum is closed on Mondays and public holidays.",
    "Python lists are mutable, tuples are not.",
    "Heavy rain is expected across the north of the country tonight.",
    "The contract can be cancelled with thirty days notice.",
    "Regular exercise lowers the risk of heart disease.",
    "A black hole is a region where gravity prevents light from escaping.",
    "Please return the library books before Friday.",
    "The train to Paris departs from platform nine.",
    "Use a soft brush to clean the camera lens.",
    "The committee approved the budget for next year.",
    "Water boils at a lower temperature at high altitude.",
    "She scored the winning goal in the final minute.",
    "The battery lasts about ten hours on a single charge.",
)


def builtin_sentences(count: int = 300) -> list[str]:
    """``count`` varied English sentences (questions, facts and templated everyday statements)."""
    templated = [
        f"{subject} {action} {context}."
        for action, subject, context in itertools.product(_ACTIONS, _SUBJECTS, _CONTEXTS)
    ]
    pool = list(_STANDALONE) + templated
    step = max(1, len(pool) // count)
    return pool[::step][:count]


@torch.inference_mode()
def mean_cosine_to_reference(
    model: nn.Module, reference: nn.Module, sentences: list[str] | None = None, batch_size: int = 64
) -> float:
    """Mean cosine similarity between ``model`` and ``reference`` embeddings of the same sentences."""
    sentences = sentences or builtin_sentences()
    ours = model.encode(sentences, batch_size=batch_size, convert_to_tensor=True)
    theirs = reference.encode(sentences, batch_size=batch_size, convert_to_tensor=True)
    return float(torch.nn.functional.cosine_similarity(ours.float(), theirs.float(), dim=-1).mean())
