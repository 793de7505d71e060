#!/usr/bin/env bash
# The trained-model suite in one command (npm run test:models): tfjs-node from the TensorFlow wheel
# (cached), then vitest over test/models (the Python environment and the trained models are made
# on first use, cached in ${FOOD11_CACHE:-~/.cache/food11}). Extra arguments go to vitest.
# Closing line: "models: N passed, N failed", then the figures (import times, verification tables).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cd "$ROOT"
bash app/scripts/tfjs-node-local.sh >&2
exec bash scripts/vitest-suite.sh models vitest.models.config.mts FOOD11_MODELS_REPORT "$@"
