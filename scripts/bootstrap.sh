#!/usr/bin/env bash
# Bootstrap a fresh Debian-like machine: system GL libraries for headless rendering, then .venv.
# torch==2.13.0 (CPU) is installed explicitly first: a bare `torch` requirement pulls a multi-GB CUDA build.
set -euo pipefail
VENV=${VENV:-.venv}
PYTHON=${PYTHON:-python3}

need_apt=()
ldconfig -p | grep -q 'libEGL_mesa.so' || need_apt+=(libegl1 libegl-mesa0)
ls /usr/lib/*/dri/swrast_dri.so >/dev/null 2>&1 || ls /usr/lib/*/dri/*_dri.so >/dev/null 2>&1 \
    || need_apt+=(libgl1-mesa-dri)
ldconfig -p | grep -q 'libgbm.so' || need_apt+=(libgbm1)
ldconfig -p | grep -q 'libGL.so.1' || need_apt+=(libgl1)
[ -x /usr/bin/chromium ] || need_apt+=(chromium)  # the browser test of parvox app
if [ ${#need_apt[@]} -gt 0 ]; then
    echo "[bootstrap] installing system packages (headless OpenGL, Chromium): ${need_apt[*]}"
    SUDO=""; [ "$(id -u)" -ne 0 ] && SUDO="sudo"
    $SUDO apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

if [ ! -x "$VENV/bin/python" ]; then
    echo "[bootstrap] creating $VENV"
    "$PYTHON" -m venv "$VENV"
fi
"$VENV/bin/python" -m pip install -q --upgrade pip
"$VENV/bin/python" -c "import torch" 2>/dev/null || {
    echo "[bootstrap] installing torch==2.13.0 (CPU)"
    "$VENV/bin/python" -m pip install -q "torch==2.13.0"
}
echo "[bootstrap] installing parvox and its dependencies"
"$VENV/bin/python" -m pip install -q -e ".[dev]"
touch "$VENV/.bootstrapped"
