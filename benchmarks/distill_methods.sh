#!/usr/bin/env bash
# Screen of training methods against the default recipe on in- and out-of-domain retrieval.
#
# Usage: bash benchmarks/distill_methods.sh [SEED ...]   (default seeds: 0 1 2)
#
# For every seed: all-MiniLM-L6-v2 distilled on a 10,000-text sample of the default corpus with the
# default recipe, with --progressive 0.3, with --learn-scales and with a contrastive term against the
# batch's teacher embeddings (--loss hidden:1,cos:1,contrast:0.1); each student and the teacher scored
# on wordnet-, manpages- and kernel-docs-retrieval (float activations, so the comparison is of the
# weights alone). Finished students and scores are kept, so a rerun continues where it stopped.
# Prints the table of docs/RESULTS.md (mean and range over the seeds) from $out/*.json.
set -euo pipefail
cd "$(dirname "$0")/.."
seeds=("$@")
[ ${#seeds[@]} -gt 0 ] || seeds=(0 1 2)
runs=runs/methods
out=benchmarks/results/distill_methods
tasks=wordnet-retrieval,manpages-retrieval,kernel-docs-retrieval
export TERNEMBED_ACTIVATIONS=float
methods=(default progressive learn_scales contrast)
declare -A method_flags=([default]="" [progressive]="--progressive 0.3" [learn_scales]="--learn-scales"
  [contrast]="--loss hidden:1,cos:1,contrast:0.1")

pairs=(teacher=all-MiniLM-L6-v2)
for seed in "${seeds[@]}"; do
  for method in "${methods[@]}"; do
    name="${method}_s${seed}"
    if [ ! -f "$out/$name.json" ] && [ ! -f "$runs/$name/ternary_config.json" ]; then
      resume=()
      [ -d "$runs/$name" ] && resume=(--resume)
      # shellcheck disable=SC2086
      ternembed distill all-MiniLM-L6-v2 --max-texts 10000 --seed "$seed" ${method_flags[$method]} \
        --out "$runs/$name" "${resume[@]}"
    fi
    pairs+=("$name=$runs/$name")
    python benchmarks/distill_eval.py --out "$out" --tasks "$tasks" "${pairs[@]}"
  done
done
python benchmarks/distill_eval.py --out "$out" --seed-table "${methods[@]}"
