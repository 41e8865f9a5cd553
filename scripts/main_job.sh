#!/usr/bin/env bash
# The main job on the default model: set up, distill a ternary all-MiniLM-L6-v2 from the original on
# unlabeled general text (the default corpus, built once and cached), then evaluate it beside the
# full-precision teacher and print the table.
# A finished student in runs/minilm-ternary is reused; an interrupted one resumes from its checkpoint.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TOKENIZERS_PARALLELISM=false

student=runs/minilm-ternary
if [ ! -f "$student/distill_config.json" ]; then
  resume=()
  [ -d "$student.partial" ] && resume=(--resume)
  ternembed distill all-MiniLM-L6-v2 --out "$student" "${resume[@]}"
fi
ternembed info "$student"
ternembed eval "$student" --baseline all-MiniLM-L6-v2 --out runs/minilm-report
