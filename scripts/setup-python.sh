#!/usr/bin/env bash
# The project's Python environment: .venv, made from Debian's python3 with its system packages visible
# (python3-torch, numpy, scipy, openslide come from apt, as CI installs them; PyPI's torch would pull
# gigabytes of CUDA packages), plus the pinned PyPI packages in scripts/python-requirements.txt (among
# them onnxruntime and a newer onnx for `h2g models quantize`; Debian's python3-onnx stays what
# /usr/bin/python3 sees, e.g. for scripts/make_test_models.py), plus the trainer (train/, editable, its
# dependencies being the Debian ones).
# Idempotent; `.ci/run` calls it. Tools find the interpreter at .venv/bin/python.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${H2G_SYSTEM_PYTHON:-/usr/bin/python3}
[[ -x .venv/bin/python ]] || "$PY" -m venv --system-site-packages .venv
.venv/bin/python -m pip install -q --disable-pip-version-check -r scripts/python-requirements.txt
.venv/bin/python -m pip install -q --disable-pip-version-check --no-deps -e train
