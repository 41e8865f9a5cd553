#!/usr/bin/env bash
# Set up (idempotent) and run the whole test suite, as CI does.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
# shellcheck disable=SC1091
. .venv/bin/activate
export HF_HUB_OFFLINE=1 TRANSFORMERS_OFFLINE=1 TOKENIZERS_PARALLELISM=false
export TERNEMBED_REQUIRE_KERNELS=1  # the kernel tests must run, not skip
ruff check .
lint-imports  # the import layers of docs/ARCHITECTURE.md (.importlinter)
python -m pytest -v --durations=15 "$@"
