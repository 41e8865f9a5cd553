"""Fashion-MNIST for image encoders: k-NN and linear-probe accuracy on frozen embeddings.

mteb's image classification expects mteb image models; the encoders here expose
``encode(list_of_PIL_images, batch_size=...)``, so this task is ours, reporting mteb metric names
(``accuracy`` for the linear probe, the main score) in mteb's result layout.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from ternembed.data.fashion_mnist import CLASS_NAMES, load_fashion_mnist

KNN_K = 10
SEED = 42


@dataclass(frozen=True)
class ImageSizes:
    """Images per class drawn from the train split (probe fitting) and from the test split (scoring)."""

    train_per_class: int
    test_per_class: int


IMAGE_SIZES = {"full": ImageSizes(1000, 1000), "quick": ImageSizes(50, 50)}


def first_per_class(labels: np.ndarray, per_class: int) -> np.ndarray:
    """Indices of the first ``per_class`` items of every class, in file order (a fixed, balanced subset)."""
    chosen = [np.flatnonzero(labels == label)[:per_class] for label in np.unique(labels)]
    return np.sort(np.concatenate(chosen))


def to_pil(images: np.ndarray) -> list[Any]:
    """Grayscale PIL images from a ``uint8 [n, h, w]`` array (the encoder's processor converts to RGB)."""
    from PIL import Image

    return [Image.fromarray(image) for image in images]


def embedding_scores(
    train_embeddings: np.ndarray,
    train_labels: np.ndarray,
    test_embeddings: np.ndarray,
    test_labels: np.ndarray,
) -> dict[str, float]:
    """Linear-probe (``accuracy``, ``f1``) and cosine k-NN (``knn_accuracy``) scores on fixed embeddings."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import accuracy_score, f1_score
    from sklearn.neighbors import KNeighborsClassifier
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    probe = make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000, random_state=SEED))
    probe.fit(train_embeddings, train_labels)
    predicted = probe.predict(test_embeddings)
    knn = KNeighborsClassifier(n_neighbors=KNN_K, metric="cosine", algorithm="brute")
    knn.fit(train_embeddings, train_labels)
    return {
        "accuracy": float(accuracy_score(test_labels, predicted)),
        "f1": float(f1_score(test_labels, predicted, average="macro")),
        "knn_accuracy": float(accuracy_score(test_labels, knn.predict(test_embeddings))),
    }


class FashionMnistTask:
    """Embeds balanced subsets of the train and test splits; probe on train, score on test."""

    name = "fashion-mnist"
    modality: Literal["image"] = "image"
    main_score = "accuracy"
    description = (
        "Fashion-MNIST (Debian dataset-fashion-mnist): linear-probe accuracy (main) and cosine "
        f"{KNN_K}-NN accuracy of image embeddings; probe fit on the train split, scored on the test split."
    )

    def __init__(self, size: Literal["full", "quick"] = "full") -> None:
        self.sizes = IMAGE_SIZES[size]

    def run(self, model: Any, batch_size: int = 32) -> dict[str, Any]:
        """Encode, probe and score; returns the result in mteb's ``TaskResult`` layout."""
        start = time.monotonic()
        embedded = {}
        for split, per_class in (("train", self.sizes.train_per_class), ("test", self.sizes.test_per_class)):
            images, labels = load_fashion_mnist(split)
            keep = first_per_class(labels, per_class)
            embeddings = model.encode(to_pil(images[keep]), batch_size=batch_size)
            embedded[split] = (np.asarray(embeddings, dtype=np.float32), labels[keep])
        scores = embedding_scores(*embedded["train"], *embedded["test"])
        return {
            "task_name": self.name,
            "dataset_revision": "debian-dataset-fashion-mnist",
            "evaluation_time": time.monotonic() - start,
            "scores": {
                "test": [
                    {
                        "hf_subset": "default",
                        "languages": [],
                        "main_score": scores[self.main_score],
                        **scores,
                        "num_classes": len(CLASS_NAMES),
                    }
                ]
            },
        }
