#!/usr/bin/env bash
# Install what the tests need and run the whole test suite (engine, widgets,
# notebooks, browser; nothing deselected). Extra arguments go to pytest:
#
#   scripts/test.sh                 # everything
#   scripts/test.sh -x -k quickstart
#
# On a fresh Debian machine this installs Debian's chromium and a font for the
# browser tests (with sudo when not root), then `pip install -e ".[test]"` into
# the Python that `$PYTHON` names (default: `python`, else `python3`).
# VW_SKIP_INSTALL=1 skips both installs; VW_INSTALL_ONLY=1 stops after them.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

PYTHON="${PYTHON:-$(command -v python || command -v python3)}"

if [[ "${VW_SKIP_INSTALL:-0}" != 1 ]]; then
    if [[ ! -x /usr/bin/chromium || ! -e /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf ]]; then
        sudo=()
        if [[ "$(id -u)" != 0 ]]; then sudo=(sudo); fi
        echo "== apt-get install chromium fonts-dejavu-core"
        "${sudo[@]}" apt-get update -q
        "${sudo[@]}" env DEBIAN_FRONTEND=noninteractive \
            apt-get install -y -q chromium fonts-dejavu-core
    fi
    echo "== $PYTHON -m pip install -e .[test]"
    "$PYTHON" -m pip install -q --disable-pip-version-check --no-input -e ".[test]"
fi
if [[ "${VW_INSTALL_ONLY:-0}" == 1 ]]; then exit 0; fi

echo "== $PYTHON -m pytest tests $*"
# exec: pytest's own exit code is the script's (5 = no tests collected fails too).
exec "$PYTHON" -m pytest tests "$@"
