#!/usr/bin/env bash
# The whole test suite, from a fresh clone or an existing checkout:
#   bash tests/run.sh [pytest arguments...]      (EAT_TEST_PROCESSES=N: N test processes)
# Creates .venv if it is missing, installs the project with its test extras (again only when
# pyproject.toml changed), installs Debian's chromium for the app's browser test when it is
# missing (as root, with apt), runs ruff, then pytest. Exits non-zero on any failure, including
# pytest's exit code 5 when no test ran.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."

export TQDM_DISABLE=1
export PIP_DISABLE_PIP_VERSION_CHECK=1
export PIP_ROOT_USER_ACTION=ignore

PYTHON="${PYTHON:-python3}"
VENV=.venv
if [ ! -x "$VENV/bin/python" ]; then
  echo "Creating $VENV with $("$PYTHON" --version 2>&1)"
  "$PYTHON" -m venv "$VENV"
fi

stamp="$VENV/.early-action-installed"
wanted="$(sha256sum pyproject.toml | cut -d' ' -f1)"
if [ ! -f "$stamp" ] || [ "$(cat "$stamp")" != "$wanted" ] || [ ! -x "$VENV/bin/eat-sim" ] \
    || ! "$VENV/bin/python" -c "import model, pytest, xdist, duckdb, playwright, pypdf; from app import MAIN_SCRIPT" \
        >/dev/null 2>&1; then
  echo "Installing the project and its test tools into $VENV"
  "$VENV/bin/python" -m pip install --quiet -e '.[test]'
  echo "$wanted" > "$stamp"
fi

# The app's browser test drives Debian's chromium through Playwright (never 'playwright
# install', which downloads browsers). Install it where it is missing and we may (~30 s).
if [ ! -x /usr/bin/chromium ]; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    echo "Installing chromium (Debian) for the browser test"
    apt-get update -qq >/dev/null
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium >/dev/null
  else
    echo "warning: /usr/bin/chromium is missing and cannot be installed here (not root or no" \
         "apt-get); the browser test will be skipped" >&2
  fi
fi

lint_dirs=()
for dir in model calibration app tests benchmarks; do
  [ -d "$dir" ] && lint_dirs+=("$dir")
done
echo "ruff check ${lint_dirs[*]}"
"$VENV/bin/ruff" check "${lint_dirs[@]}"

# One test process per core (pytest-xdist), each test file kept on one process so that its
# module fixtures are built once: on a 2-core machine this halves the suite's wall time.
# EAT_TEST_PROCESSES=0 runs everything in this process (for a debugger).
"$VENV/bin/python" -m pytest -q -n "${EAT_TEST_PROCESSES:-auto}" --dist loadfile "$@"
