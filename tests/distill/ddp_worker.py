"""Run by multi-process tests under torchrun / accelerate launch: distill, then report this rank's weights.

Usage: ``ddp_worker.py TEACHER CORPUS OUT REPORT_DIR``. Each rank writes ``REPORT_DIR/rank{N}.json``
with a digest of every student tensor and whether it got an output folder back.
"""

from __future__ import annotations

import hashlib
import json
import sys
from pathlib import Path

from ternembed.distill import DistillArguments, distill


def main() -> None:
    teacher, corpus, out, report_dir = sys.argv[1:5]
    args = DistillArguments(
        teacher=teacher, out=out, data=(corpus,), max_steps=4, batch_size=4, lr=1e-3, eval_texts=8,
        save_every=2, progress=False,
    )  # fmt: skip
    result = distill(args)
    import torch.distributed as dist

    rank = dist.get_rank() if dist.is_initialized() else 0
    digests = {
        name: hashlib.sha256(tensor.detach().cpu().float().numpy().tobytes()).hexdigest()
        for name, tensor in result.student.state_dict().items()
    }
    report = {"world_size": dist.get_world_size() if dist.is_initialized() else 1, "out": str(result.out)}
    Path(report_dir, f"rank{rank}.json").write_text(json.dumps({**report, "digests": digests}))


if __name__ == "__main__":
    main()
