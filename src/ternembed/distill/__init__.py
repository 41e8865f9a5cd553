"""Self-taught distillation: a frozen full-precision teacher trains its ternary copy on unlabeled inputs.

Layout, one job per module:

- :mod:`~ternembed.distill.corpus` reads unlabeled texts (files, folders, saved datasets, or the
  default general corpus, :mod:`~ternembed.distill.default_corpus`).
- :mod:`~ternembed.distill.encoders` holds the **batch encoder** seam (see below).
- :mod:`~ternembed.distill.losses` holds the loss terms and the ``"hidden:1,cos:1"`` spec parser.
- :mod:`~ternembed.distill.batching` plans length-bucketed batches and shards them across ranks.
- :mod:`~ternembed.distill.checkpoint` and :mod:`~ternembed.distill.run_folder` make checkpoints and
  the output folder crash-safe (temporary name, then rename).
- :mod:`~ternembed.distill.evaluation` measures held-out teacher-student fidelity.
- :mod:`~ternembed.distill.trainer` is the loop (:func:`distill`), run by ``accelerate`` so it works
  in one process, under ``torchrun`` and under ``accelerate launch``.

Plugging in another modality (images): the loop never looks inside an item. Pass
``distill(args, config, teacher=vision_model, items=images, encoder=ImageBatchEncoder(...))`` where the
encoder implements :class:`~ternembed.distill.encoders.BatchEncoder`:

- ``lengths(items)``: the cost of each item (all equal for fixed-size images, so bucketing is moot);
- ``collate(items)``: a dict of CPU tensors, e.g. ``{"pixel_values": ...}``;
- ``encode(model, batch, hidden_states)``: run teacher or student (possibly DDP-wrapped) and return an
  :class:`~ternembed.distill.encoders.EncoderOutput` with the pooled embedding, the last hidden states
  (patch tokens), an all-ones attention mask and, when asked, every layer's hidden states.

Every loss then works unchanged (``hidden``/``paper`` on patch tokens, ``cos``/``rkd`` on the pooled
embedding). The teacher must be a module that :func:`ternembed.prepare` can ternarize; pass
``save_student=`` (e.g. :func:`ternembed.vision.distill.save_image_student`) when
:func:`ternembed.io.save` cannot write it.
"""

from ternembed.distill.arguments import ArgumentError, DistillArguments
from ternembed.distill.checkpoint import CheckpointError
from ternembed.distill.corpus import CorpusError, load_texts
from ternembed.distill.encoders import BatchEncoder, EncoderOutput, TextBatchEncoder
from ternembed.distill.losses import LOSS_NAMES, LossSpec, LossSpecError, distillation_loss
from ternembed.distill.run_folder import OutputExistsError
from ternembed.distill.trainer import CorpusTooSmallError, DistillResult, TeacherIsTernaryError, distill

__all__ = [
    "LOSS_NAMES",
    "ArgumentError",
    "BatchEncoder",
    "CheckpointError",
    "CorpusError",
    "CorpusTooSmallError",
    "DistillArguments",
    "DistillResult",
    "EncoderOutput",
    "LossSpec",
    "LossSpecError",
    "OutputExistsError",
    "TeacherIsTernaryError",
    "TextBatchEncoder",
    "distill",
    "distillation_loss",
    "load_texts",
]
