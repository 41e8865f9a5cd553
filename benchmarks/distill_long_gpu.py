"""Longer distillation of all-MiniLM-L6-v2 on the WordNet+GCIDE corpus, built for one short GPU lease.

The CPU runs of sessions 3-4 trained one epoch at batch 32 (at most 10k steps); this asks whether
several times the training compute closes the retrieval gap. Subcommands:

``export`` (here)  the carried inputs: the fp16 teacher, probe texts and retrieval data of
                   ``distill_grid.py export``, plus the corpus of ``gcide_corpus.py``, gzipped.
``run``    (GPU)   one process per variant, side by side on the GPU. Each measures its own step time
                   with a short trial run (under the same contention), trains for as many steps as fit
                   before the shared deadline (linear decay over exactly those steps), then is scored
                   on the probe set and ``wordnet-retrieval`` and saved. A last step packs the students
                   into few tar files (``distill_grid.Store``) for the transfer back.
``assemble`` and ``table`` of ``distill_grid.py`` read the output.

The probe texts are removed from the training corpus, so probe fidelity is measured on unseen text.
On a fresh GPU process the trial overestimates the step time while kernels for new batch shapes are
still being picked (the bf16 variant: 425 ms/step in its trial, 97 ms/step in the run); ``--steps``
fixes the step count when the speed is known.
"""

from __future__ import annotations

import argparse
import copy
import gzip
import json
import os
import random
import shutil
import subprocess
import sys
import time
from pathlib import Path

VARIANTS = {
    "b256_lr1e-3": {"batch_size": 256, "lr": 1e-3, "loss": "hidden:1,cos:1"},
    "b512_lr1.5e-3": {"batch_size": 512, "lr": 1.5e-3, "loss": "hidden:1,cos:1"},
    "b256_lr1e-3_layers": {"batch_size": 256, "lr": 1e-3, "loss": "hidden:1,layers:1,cos:1"},
    "b256_lr1e-3_cos4": {"batch_size": 256, "lr": 1e-3, "loss": "hidden:1,cos:4"},
    "b512_lr1.5e-3_bf16": {"batch_size": 512, "lr": 1.5e-3, "loss": "hidden:1,cos:1", "bf16": True},
}
"""Name -> settings that differ from the default recipe (row/optimal ternarization, linear decay)."""
TRIAL_TEXTS = 20000
SETUP_AND_SAVE_SECONDS = 60
"""Kept free for the real run's tokenizing, its final scoring, freezing and saving."""
GRACE_SECONDS = 45
"""A variant still running this long after the deadline is killed, so the others' results come back."""


def export(args: argparse.Namespace) -> None:
    """Link the grid's teacher, probe and retrieval data into ``args.dest`` and gzip the corpus there."""
    grid, dest = Path(args.grid_inputs), Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    shutil.copytree(grid / "teacher", dest / "teacher", copy_function=os.link, dirs_exist_ok=True)
    for name in ("probe.txt", "retrieval.json"):
        if not (dest / name).exists():
            os.link(grid / name, dest / name)
    with (
        open(args.corpus, "rb") as source,
        gzip.open(dest / "corpus.txt.gz", "wb", compresslevel=9) as target,
    ):
        shutil.copyfileobj(source, target)
    print(f"exported to {dest}")


def run(args: argparse.Namespace) -> None:
    """Start every variant as its own process with one deadline, wait, then pack the students."""
    started = time.time()
    work, out = Path(args.work), Path(args.out)
    work.mkdir(parents=True, exist_ok=True)
    out.mkdir(parents=True, exist_ok=True)
    _prepare_inputs(Path(args.inputs), work, args.max_texts)
    deadline = started + args.budget
    names = args.only.split(",") if args.only else list(VARIANTS)
    processes = {}
    for name in names:
        command = [sys.executable, __file__, "train", "--name", name, "--work", str(work),
                   "--deadline", str(deadline), "--trial-steps", str(args.trial_steps)]  # fmt: skip
        command += ["--steps", str(args.steps)] if args.steps else []
        with (work / f"{name}.log").open("w") as log:  # the child keeps its own copy of the handle
            processes[name] = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    for name, process in processes.items():
        try:
            process.wait(timeout=max(1.0, deadline + GRACE_SECONDS - time.time()))
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        print(f"{name}: exit {process.returncode} after {time.time() - started:.0f} s", flush=True)
    _collect(work, out, names)


def _prepare_inputs(inputs: Path, work: Path, max_texts: int | None) -> None:
    """fp32 teacher and the corpus minus the probe texts, shared by the variant processes."""
    from distill_grid import restore_fp32_teacher

    restore_fp32_teacher(inputs / "teacher", work / "teacher")
    probe = (inputs / "probe.txt").read_text().splitlines()
    shutil.copy(inputs / "probe.txt", work / "probe.txt")
    shutil.copy(inputs / "retrieval.json", work / "retrieval.json")
    held_out = set(probe)
    with gzip.open(inputs / "corpus.txt.gz", "rt") as handle:
        texts = [line for line in handle.read().splitlines() if line.strip() and line not in held_out]
    texts = texts[:max_texts] if max_texts else texts
    (work / "corpus.txt").write_text("\n".join(texts) + "\n")
    print(f"corpus: {len(texts)} texts (probe texts removed)", flush=True)


def train(args: argparse.Namespace) -> None:
    """One variant: trial run for the step time, the real run up to the deadline, score, save."""
    import torch
    from distill_grid import Scorer

    from ternembed import TernaryConfig
    from ternembed.distill import DistillArguments, distill
    from ternembed.distill.corpus import load_texts
    from ternembed.models import load_sentence_transformer

    work, settings = Path(args.work), VARIANTS[args.name]
    device = "cuda" if torch.cuda.is_available() else "cpu"
    teacher = load_sentence_transformer(work / "teacher", device=device)
    teacher.max_seq_length = 128
    texts = load_texts([work / "corpus.txt"])
    trial_texts = random.Random(0).sample(texts, min(TRIAL_TEXTS, len(texts)))  # both sources' lengths

    def arguments(out: Path, max_steps: int) -> DistillArguments:
        return DistillArguments(
            teacher=str(work / "teacher"), out=str(out), data=(str(work / "corpus.txt"),),
            max_steps=max_steps, max_seq_length=128, save_every=0, overwrite=True, progress=False,
            **settings,
        )  # fmt: skip

    def trial_seconds(steps: int) -> float:
        trial = distill(arguments(work / "trial" / args.name, steps), TernaryConfig(),
                        teacher=copy.deepcopy(teacher), items=trial_texts)  # fmt: skip
        shutil.rmtree(work / "trial" / args.name, ignore_errors=True)
        return trial.train_seconds

    if args.steps:
        steps, seconds_per_step, source = args.steps, None, "--steps"
    else:
        trial_seconds(3)  # warm-up: the first steps of a process are slow
        seconds_per_step = trial_seconds(args.trial_steps) / args.trial_steps
        left = args.deadline - time.time() - SETUP_AND_SAVE_SECONDS
        steps = max(args.trial_steps, int(0.92 * left / seconds_per_step))
        source = f"{seconds_per_step * 1000:.1f} ms/step in the trial"
    print(f"{args.name}: {steps} steps ({steps * settings['batch_size'] / len(texts):.2f} epochs) "
          f"from {source}", flush=True)  # fmt: skip
    result = distill(arguments(work / "students" / args.name, steps), TernaryConfig(), teacher=teacher,
                     items=texts)  # fmt: skip
    scorer = Scorer(teacher, (work / "probe.txt").read_text().splitlines(),
                    json.loads((work / "retrieval.json").read_text()))  # fmt: skip
    entry = {"name": args.name, **settings, "texts": len(texts), "steps": result.steps,
             "epochs": round(result.steps * settings["batch_size"] / len(texts), 2),
             "train_seconds": round(result.train_seconds, 1), "items_per_second": round(result.items_per_second),
             "trial_ms_per_step": seconds_per_step and round(seconds_per_step * 1000, 1), "held_out": result.final_eval,
             "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
             **scorer.score(result.student), "teacher_ndcg_at_10": scorer.score(teacher)["ndcg_at_10"]}  # fmt: skip
    (work / f"{args.name}.result.json").write_text(json.dumps(entry))
    print(json.dumps(entry), flush=True)


def _collect(work: Path, out: Path, names: list[str]) -> None:
    """results.jsonl, one log, and the packed students in distill_grid's tar layout."""
    from distill_grid import Store

    with (out / "results.jsonl").open("w") as results, (out / "log.txt").open("w") as log:
        for name in names:
            log.write(f"==== {name}\n" + (work / f"{name}.log").read_text())
            result = work / f"{name}.result.json"
            if result.exists():
                results.write(result.read_text() + "\n")
    store = Store(out)
    for name in names:
        folder = work / "students" / name
        if (folder / "model.safetensors").exists():
            print(f"{name}: stored={store.add(folder, name, priority=True)}", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export")
    p.add_argument("--grid-inputs", required=True, help="folder written by distill_grid.py export")
    p.add_argument("--corpus", required=True, help="text file written by gcide_corpus.py")
    p.add_argument("--dest", required=True)
    p = sub.add_parser("run")
    p.add_argument("--inputs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--work", default="/tmp/distill_long")
    p.add_argument("--budget", type=float, default=420.0, help="seconds from start to the end of scoring")
    p.add_argument("--only", help="comma-separated variant names")
    p.add_argument("--max-texts", type=int, help="first N corpus texts only (CPU smoke tests)")
    p.add_argument("--trial-steps", type=int, default=40, help="steps of the timing trial")
    p.add_argument("--steps", type=int, help="train this many steps instead of timing a trial")
    p = sub.add_parser("train")
    p.add_argument("--name", required=True, choices=list(VARIANTS))
    p.add_argument("--work", required=True)
    p.add_argument("--deadline", type=float, required=True)
    p.add_argument("--trial-steps", type=int, required=True)
    p.add_argument("--steps", type=int)
    args = parser.parse_args()
    {"export": export, "run": run, "train": train}[args.command](args)


if __name__ == "__main__":
    main()
