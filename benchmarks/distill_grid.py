"""Recipe and ablation grid for ``ternembed distill`` on all-MiniLM-L6-v2, built for one short GPU lease.

Three steps, each a subcommand:

``export``   (here)   write the carried inputs: the teacher in fp16 (to fit the transfer limit), the
                      WordNet training texts split into a training pool and a fixed probe set, and the
                      ``wordnet-retrieval`` data as JSON.
``run``      (GPU)    teacher and post-training-ternarized baselines, then the grid in priority order
                      until a time budget is spent. Each run is scored on the probe set (teacher-student
                      cosine, top-10 overlap) and on wordnet-retrieval (nDCG@10, own implementation with
                      linear gains). Results stream to ``results.jsonl``; each packed student is stored
                      without the shared word-embedding table in tar files (the transfer allows 8 files).
``assemble`` (here)   rebuild loadable packed folders from those tar files for ``ternembed eval``.

Hyper-parameters are chosen on the probe-set cosine (training distribution), never on the eval suite.
"""

from __future__ import annotations

import argparse
import copy
import io
import json
import math
import shutil
import tarfile
import time
from pathlib import Path

import torch

SHARED_TENSORS = ("embeddings.word_embeddings.", "pooler.")
"""Tensors the same in every student (the int8 token table; the unused, untrained pooler) go to shared.tar."""
SHARED_FILES = ("tokenizer.json", "tokenizer_config.json", "vocab.txt", "special_tokens_map.json")
TAR_BYTES = 15 * 2**20
MAX_TARS = 5
TOTAL_BYTES = 60 * 2**20
RESERVED_BYTES = 4 * 3_200_000
"""Room kept for the runs named in PRIORITY when the others fill the transfer."""
PRIORITY = ("paper_recipe", "paper_recipe_tuned_lr", "ours_final", "ours_final_50k")
FINAL_SECONDS = 150
"""Ablations stop this long before the budget ends, so the final runs still fit."""
PROBE_TEXTS = 1000
POOL_TEXTS = 60000


def export(args: argparse.Namespace) -> None:
    """Teacher (fp16 weights), training pool, probe texts and retrieval data under ``args.dest``."""
    import random

    from safetensors.torch import load_file, save_file

    from ternembed.data.wordnet import training_texts
    from ternembed.eval.tasks import load_retrieval_data
    from ternembed.models import resolve_model

    dest = Path(args.dest)
    dest.mkdir(parents=True, exist_ok=True)
    model_dir = dest / "teacher"
    shutil.copytree(resolve_model(args.model), model_dir, dirs_exist_ok=True)
    weights = load_file(model_dir / "model.safetensors")
    save_file(
        {k: v.half() if v.is_floating_point() else v for k, v in weights.items()},
        model_dir / "model.safetensors",
    )
    texts = training_texts()
    random.Random(0).shuffle(texts)
    (dest / "probe.txt").write_text("\n".join(texts[:PROBE_TEXTS]) + "\n")
    (dest / "pool.txt").write_text("\n".join(texts[PROBE_TEXTS : PROBE_TEXTS + POOL_TEXTS]) + "\n")
    data = load_retrieval_data("wordnet-retrieval", size=args.size)
    (dest / "retrieval.json").write_text(
        json.dumps({"corpus": data.corpus, "queries": data.queries, "qrels": data.qrels})
    )
    print(
        f"exported to {dest}: {len(texts)} training texts, {len(data.queries)} queries, {len(data.corpus)} documents"
    )


def restore_fp32_teacher(source: Path, dest: Path) -> None:
    """Copy the exported fp16 teacher folder to ``dest`` with its floating-point weights back in fp32."""
    if dest.exists():
        return
    from safetensors.torch import load_file, save_file

    shutil.copytree(source, dest)
    weights = load_file(dest / "model.safetensors")
    save_file(
        {k: v.float() if v.is_floating_point() else v for k, v in weights.items()},
        dest / "model.safetensors",
    )


class Scorer:
    """Probe-set fidelity and wordnet-retrieval nDCG@10 of any SentenceTransformer on the GPU."""

    def __init__(self, teacher, probe: list[str], retrieval: dict) -> None:
        self.probe = probe
        self.doc_ids = list(retrieval["corpus"])
        self.docs = [retrieval["corpus"][i] for i in self.doc_ids]
        self.query_ids = [q for q in retrieval["queries"] if retrieval["qrels"].get(q)]
        self.queries = [retrieval["queries"][q] for q in self.query_ids]
        position = {doc_id: n for n, doc_id in enumerate(self.doc_ids)}
        self.qrels = [
            {position[d]: g for d, g in retrieval["qrels"][q].items() if d in position}
            for q in self.query_ids
        ]
        self.teacher_probe = self._encode(teacher, probe)

    @staticmethod
    def _encode(model, texts: list[str]) -> torch.Tensor:
        with torch.no_grad():
            return model.encode(
                texts, batch_size=256, convert_to_tensor=True, normalize_embeddings=True
            ).float()

    def score(self, model) -> dict[str, float]:
        from ternembed.distill.evaluation import fidelity

        model.eval()
        scores = fidelity(self.teacher_probe.cpu(), self._encode(model, self.probe).cpu())
        queries, docs = self._encode(model, self.queries), self._encode(model, self.docs)
        top = (queries @ docs.T).topk(10, dim=-1).indices.cpu().tolist()
        ndcg, recall = [], []
        for ranked, relevant in zip(top, self.qrels, strict=True):
            dcg = sum(relevant.get(d, 0) / math.log2(r + 2) for r, d in enumerate(ranked))
            ideal = sum(
                g / math.log2(r + 2) for r, g in enumerate(sorted(relevant.values(), reverse=True)[:10])
            )
            ndcg.append(dcg / ideal if ideal else 0.0)
            positives = {d for d, g in relevant.items() if g > 0}
            recall.append(len(positives & set(ranked)) / max(1, len(positives)))
        return {**scores, "ndcg_at_10": sum(ndcg) / len(ndcg), "recall_at_10": sum(recall) / len(recall)}


def grid(base_lr: float) -> list[dict]:
    """Runs in priority order; ``lr=None`` means the best learning rate found so far.

    ``final`` runs take the best granularity, threshold and loss found so far (by probe cosine).
    """
    ours = {
        "granularity": "row",
        "threshold": "optimal",
        "loss": "hidden:1,cos:1",
        "texts": 10000,
        "epochs": 1,
    }
    paper = {"granularity": "tensor", "threshold": "paper", "loss": "paper", "texts": 10000, "epochs": 1}
    runs = [
        {"name": "paper_recipe", **paper, "lr": 2e-5, "lr_schedule": "constant", "warmup_ratio": 0.0},
        *({"name": f"lr_{lr:g}", **ours, "lr": lr} for lr in (5e-5, 1e-4, 2e-4, 5e-4, 1e-3)),
        {"name": "paper_recipe_tuned_lr", **paper, "lr": None},
    ]
    for granularity in ("tensor", "row", "group:128"):
        for threshold in ("paper", "absmean", "optimal"):
            if (granularity, threshold) != ("row", "optimal"):
                runs.append({"name": f"gran_{granularity}_{threshold}".replace(":", ""), **ours,
                             "granularity": granularity, "threshold": threshold, "lr": None})  # fmt: skip
    for loss in ("paper", "hidden", "cos", "mse", "hidden:1,cos:1,rkd:1", "hidden:1,layers:1,cos:1", "cos:1,rkd:1",
                 "hidden:1,cos:4", "layers:1,cos:1"):  # fmt: skip
        runs.append(
            {"name": "loss_" + loss.replace(":", "").replace(",", "_"), **ours, "loss": loss, "lr": None}
        )
    runs += [
        {"name": "ours_final", **ours, "lr": None, "final": True},
        {"name": "texts_1k", **ours, "texts": 1000, "lr": None},
        {"name": "texts_1k_x10", **ours, "texts": 1000, "epochs": 10, "lr": None},
        {"name": "texts_50k", **ours, "texts": 50000, "lr": None},
        {"name": "texts_10k_x3", **ours, "epochs": 3, "lr": None},
        {"name": "ours_final_50k", **ours, "texts": 50000, "lr": None, "final": True},
    ]
    return runs


def run(args: argparse.Namespace) -> None:
    """Run the grid on the best device until ``args.budget`` seconds have passed."""
    from ternembed import TernaryConfig, prepare
    from ternembed.distill import DistillArguments, distill
    from ternembed.models import load_sentence_transformer

    started = time.time()
    inputs, out, work = Path(args.inputs), Path(args.out), Path(args.work)
    out.mkdir(parents=True, exist_ok=True)
    work.mkdir(parents=True, exist_ok=True)
    teacher_dir = work / "teacher"
    restore_fp32_teacher(inputs / "teacher", teacher_dir)
    device = "cuda" if torch.cuda.is_available() else "cpu"
    probe = (inputs / "probe.txt").read_text().splitlines()[: args.probe_texts]
    retrieval = json.loads((inputs / "retrieval.json").read_text())
    teacher = load_sentence_transformer(teacher_dir, device=device)
    teacher.max_seq_length = 128
    scorer = Scorer(teacher, probe, retrieval)
    results = out / "results.jsonl"

    def record(entry: dict) -> None:
        entry["elapsed"] = round(time.time() - started, 1)
        with results.open("a") as handle:
            handle.write(json.dumps(entry) + "\n")
        print(json.dumps(entry), flush=True)

    record(
        {
            "name": "teacher",
            "device": torch.cuda.get_device_name() if device == "cuda" else "cpu",
            **scorer.score(teacher),
        }
    )
    wanted = set(args.only.split(",")) if args.only else None
    for granularity in ("tensor", "row", "group:128"):
        for threshold in ("paper", "absmean", "optimal"):
            if wanted is not None:
                continue
            ptq = prepare(copy.deepcopy(teacher), TernaryConfig(granularity=granularity, threshold=threshold))
            record({"name": f"ptq_{granularity}_{threshold}".replace(":", ""), "granularity": granularity,
                    "threshold": threshold, **scorer.score(ptq)})  # fmt: skip
            del ptq
    for spec in grid(args.default_lr):  # fail fast on a typo before the lease is spent
        TernaryConfig(granularity=spec["granularity"], threshold=spec["threshold"])
        DistillArguments(teacher="t", out="o", loss=spec["loss"], epochs=spec["epochs"])
    saving = _check_saving(teacher)
    record({"name": "save_check", "ok": saving})
    best = {
        "lr": (args.default_lr, -1.0),
        "quant": (("row", "optimal"), -1.0),
        "loss": ("hidden:1,cos:1", -1.0),
    }
    store = Store(out)
    for spec in grid(args.default_lr):
        if wanted is not None and spec["name"] not in wanted:
            continue
        limit = args.budget if spec.get("final") else args.budget - FINAL_SECONDS
        if time.time() - started > limit:
            record({"name": spec["name"], "skipped": "time budget spent"})
            continue
        spec = dict(spec, lr=spec["lr"] if spec["lr"] is not None else best["lr"][0])
        if spec.get("final"):
            (spec["granularity"], spec["threshold"]), spec["loss"] = best["quant"][0], best["loss"][0]
        texts = max(50, int(spec["texts"] * args.scale))
        distill_args = DistillArguments(
            teacher=str(teacher_dir), out=str(work / "runs" / spec["name"]), data=(str(inputs / "pool.txt"),),
            max_texts=texts, epochs=spec["epochs"], batch_size=32, max_seq_length=128, lr=spec["lr"],
            lr_schedule=spec.get("lr_schedule", "linear"), warmup_ratio=spec.get("warmup_ratio", 0.05),
            loss=spec["loss"], eval_texts=0, save_every=0, overwrite=True, progress=False,
        )  # fmt: skip
        config = TernaryConfig(granularity=spec["granularity"], threshold=spec["threshold"])
        wall = time.time()
        try:
            result = distill(distill_args, config, teacher=copy.deepcopy(teacher))
        except Exception as error:  # one failed run must not cost the rest of the lease
            record({"name": spec["name"], "error": repr(error)})
            continue
        wall = time.time() - wall
        scores = scorer.score(result.student)
        stored = saving and store.add(result.out, spec["name"], spec["name"] in PRIORITY)
        record({**spec, "texts": texts, "steps": result.steps, "train_seconds": round(result.train_seconds, 2),
                "wall_seconds": round(wall, 2), "items_per_second": round(result.items_per_second, 1),
                "stored": stored, **scores})  # fmt: skip
        ours_like = spec["texts"] == 10000 and spec["epochs"] == 1 and not spec["name"].startswith("paper")
        if spec["name"].startswith("lr_") and scores["cosine"] > best["lr"][1]:
            best["lr"] = (spec["lr"], scores["cosine"])
        if ours_like and spec["loss"] == "hidden:1,cos:1" and scores["cosine"] > best["quant"][1]:
            best["quant"] = ((spec["granularity"], spec["threshold"]), scores["cosine"])
        if (
            ours_like
            and (spec["granularity"], spec["threshold"]) == ("row", "optimal")
            and scores["cosine"] > best["loss"][1]
        ):
            best["loss"] = (spec["loss"], scores["cosine"])
        shutil.rmtree(result.out or "", ignore_errors=True)
        del result
        torch.cuda.empty_cache() if device == "cuda" else None


def _check_saving(teacher) -> bool:
    """Whether packed folders can be saved here; if not, runs still train and score but save nothing.

    The lease's Python stack differs from ours (older transformers); a failing save must not lose
    the scores of every run.
    """
    import ternembed.distill.trainer as trainer
    from ternembed import TernaryConfig, freeze, prepare
    from ternembed.io import save

    try:
        config = TernaryConfig()
        save(
            freeze(prepare(copy.deepcopy(teacher).cpu(), config), config),
            "/tmp/distill_grid_save_check",
            config,
            overwrite=True,
        )
        return True
    except Exception as error:
        print(f"saving packed folders fails here ({error!r}); runs will not be stored", flush=True)
        trainer._save_student = lambda student, folder, config, run_config: folder.mkdir(parents=True)
        return False


class Store:
    """Packed students minus their shared tensors, in at most MAX_TARS tar files of TAR_BYTES."""

    def __init__(self, out: Path) -> None:
        self.out = out
        self.shared: dict[str, torch.Tensor] | None = None
        self.tar_index, self.tar_bytes, self.total = 0, 0, 0

    def add(self, folder: Path, name: str, priority: bool) -> bool:
        """Store ``folder`` as ``name``; False when the transfer limits leave no room."""
        from safetensors.torch import load_file, save

        weights = load_file(folder / "model.safetensors")
        if self.shared is None:
            self.shared = {k: v for k, v in weights.items() if k.startswith(SHARED_TENSORS)}
            with tarfile.open(self.out / "shared.tar", "w") as tar:
                _add_bytes(tar, "shared.safetensors", save(self.shared))
                for file in SHARED_FILES:
                    if (folder / file).exists():
                        tar.add(folder / file, arcname=file)
            self.total += (self.out / "shared.tar").stat().st_size
        delta = {
            k: v for k, v in weights.items() if k not in self.shared or not torch.equal(v, self.shared[k])
        }
        data = save(delta)
        files = [
            p
            for p in sorted(folder.rglob("*"))
            if p.is_file() and p.name not in SHARED_FILES and p.name != "model.safetensors"
        ]
        size = len(data) + sum(p.stat().st_size + 1024 for p in files) + 2048
        room = TOTAL_BYTES - (0 if priority else RESERVED_BYTES)
        if self.tar_bytes + size > TAR_BYTES:
            self.tar_index, self.tar_bytes = self.tar_index + 1, 0
        if self.total + size > room or self.tar_index >= MAX_TARS:
            return False
        with tarfile.open(self.out / f"students_{self.tar_index}.tar", "a") as tar:
            _add_bytes(tar, f"{name}/model_delta.safetensors", data)
            for path in files:
                tar.add(path, arcname=f"{name}/{path.relative_to(folder)}")
        self.tar_bytes += size
        self.total += size
        return True


def _add_bytes(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def assemble(args: argparse.Namespace) -> None:
    """Rebuild packed folders from ``shared.tar`` and ``students_*.tar`` into ``args.dest/NAME``."""
    from safetensors.torch import load, save_file

    source, dest = Path(args.source), Path(args.dest)
    with tarfile.open(source / "shared.tar") as tar:
        shared = {m.name: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}
    shared_tensors = load(shared.pop("shared.safetensors"))
    for tar_path in sorted(source.glob("students_*.tar")):
        with tarfile.open(tar_path) as tar:
            for member in tar.getmembers():
                if not member.isfile():
                    continue
                target = dest / member.name
                target.parent.mkdir(parents=True, exist_ok=True)
                data = tar.extractfile(member).read()
                if target.name == "model_delta.safetensors":
                    save_file(
                        {**shared_tensors, **load(data)},
                        target.with_name("model.safetensors"),
                        metadata={"format": "pt"},
                    )
                else:
                    target.write_bytes(data)
    for folder in {p.parent for p in dest.glob("*/model.safetensors")}:
        for name, data in shared.items():
            (folder / name).write_bytes(data)
        print(folder)


def table(args: argparse.Namespace) -> None:
    """Markdown ablation table from one or more ``results.jsonl`` files (later files win on a name)."""
    rows: dict[str, dict] = {}
    for path in args.results:
        for line in Path(path).read_text().splitlines():
            entry = json.loads(line)
            if "cosine" in entry:
                rows[entry["name"]] = entry
    teacher = rows["teacher"]["ndcg_at_10"]
    print(
        "| run | granularity | threshold | loss | lr | texts x epochs | steps | H200 train s | CPU est. min "
        "| probe cosine | probe top-10 overlap | wordnet-retrieval nDCG@10 (% of teacher) |"
    )
    print("|---" * 12 + "|")
    for name, r in rows.items():
        data = f"{r['texts']} x {r['epochs']}" if "texts" in r else "-"
        cpu_minutes = f"{r['steps'] * args.cpu_seconds_per_step / 60:.1f}" if "steps" in r else "-"
        print(f"| {name} | {r.get('granularity', '-')} | {r.get('threshold', '-')} | {r.get('loss', '-')} "
              f"| {r.get('lr', '-')} | {data} | {r.get('steps', '-')} | {r.get('train_seconds', '-')} "
              f"| {cpu_minutes} "
              f"| {r['cosine']:.4f} | {r['top10_overlap']:.4f} | {r['ndcg_at_10']:.4f} ({100 * r['ndcg_at_10'] / teacher:.1f}%) |")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("export")
    p.add_argument("--model", default="sentence-transformers/all-MiniLM-L6-v2")
    p.add_argument("--dest", required=True)
    p.add_argument("--size", default="full", choices=("full", "quick"))
    p = sub.add_parser("run")
    p.add_argument("--inputs", required=True)
    p.add_argument("--out", required=True)
    p.add_argument("--work", default="/tmp/distill_grid")
    p.add_argument("--budget", type=float, default=480.0, help="start no new run after this many seconds")
    p.add_argument(
        "--scale", type=float, default=1.0, help="multiply corpus sizes (0.01 for a CPU smoke test)"
    )
    p.add_argument("--probe-texts", type=int, default=PROBE_TEXTS)
    p.add_argument("--default-lr", type=float, default=2e-4)
    p.add_argument("--only", help="comma-separated run names (skips the baselines); for smoke tests")
    p = sub.add_parser("assemble")
    p.add_argument("--source", required=True)
    p.add_argument("--dest", required=True)
    p = sub.add_parser("table")
    p.add_argument("results", nargs="+", help="results.jsonl files")
    p.add_argument("--cpu-seconds-per-step", type=float, default=0.46,
                   help="measured CPU-seconds of one batch-32 step of the default recipe (estimate column)")  # fmt: skip
    args = parser.parse_args()
    {"export": export, "run": run, "assemble": assemble, "table": table}[args.command](args)


if __name__ == "__main__":
    main()
