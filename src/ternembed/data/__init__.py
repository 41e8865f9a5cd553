"""Readers of real offline data (WordNet, GCIDE, Fashion-MNIST) shared by evaluation and distillation."""

from ternembed.data.fashion_mnist import FashionMnistNotFoundError, load_fashion_mnist
from ternembed.data.gcide import GcideNotFoundError
from ternembed.data.wordnet import (
    Synset,
    WordNetNotFoundError,
    is_evaluation_synset,
    load_synsets,
    training_texts,
)

__all__ = [
    "FashionMnistNotFoundError",
    "GcideNotFoundError",
    "Synset",
    "WordNetNotFoundError",
    "is_evaluation_synset",
    "load_fashion_mnist",
    "load_synsets",
    "training_texts",
]
