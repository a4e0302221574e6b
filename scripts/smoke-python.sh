#!/usr/bin/env bash
# Smoke test on each supported CPython: install the runtime dependencies from uv.lock (as the
# image does: no dev group, no extra) into a fresh environment, then import every package,
# build the app and the worker's settings, and print the schema (it must match the committed
# one). CI runs the whole suite on one version and this on the others.
#
#   scripts/smoke-python.sh              # 3.11, 3.12 and 3.13: those found here; exit 1 if none
#   scripts/smoke-python.sh 3.13         # only these; exit 1 when one is not found
#
# Interpreters are found on PATH (python3.X), under pyenv, or by uv among those it manages; uv does not
# download one (UV_PYTHON_DOWNLOADS=never), so install them first where that is possible.
set -euo pipefail
cd "$(dirname "$0")/.."
UV=${UV:-$( [ -x .tools/bin/uv ] && echo .tools/bin/uv || command -v uv )}
export UV_PYTHON_DOWNLOADS=never
strict=1
versions=("$@")
if [ ${#versions[@]} -eq 0 ]; then
  versions=(3.11 3.12 3.13)
  strict=0
fi
# The first interpreter of that version that runs: on PATH, under pyenv, or uv's.
find_python() {
  local candidates=()
  command -v "python$1" >/dev/null && candidates+=("$(command -v "python$1")")
  if command -v pyenv >/dev/null; then
    for found in "$(pyenv root)"/versions/"$1".*/bin/"python$1"; do candidates+=("$found"); done
  fi
  candidates+=("$("$UV" python find "$1" 2>/dev/null || true)")
  for candidate in "${candidates[@]}"; do
    if [ -n "$candidate" ] && "$candidate" -c 'import sys' 2>/dev/null; then
      echo "$candidate"
      return
    fi
  done
}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
passed=0
failed=0
for version in "${versions[@]}"; do
  python=$(find_python "$version")
  if [ -z "$python" ]; then
    echo "Python $version: not found here (skipped)"
    [ "$strict" = 1 ] && failed=$((failed + 1))
    continue
  fi
  env="$work/venv-$version"
  if ! UV_PROJECT_ENVIRONMENT="$env" "$UV" sync --quiet --frozen --no-dev --python "$python"; then
    echo "Python $version ($python): the runtime dependencies do not install"
    failed=$((failed + 1))
    continue
  fi
  if INVITES_ENV=test INVITES_SECRET_KEY=smoke-test-key-that-is-long-enough-000000 \
     INVITES_DATA_DIR="$work/data" "$env/bin/python" - "$work/schema-$version.graphql" <<'PY'
import sys
from pathlib import Path

import api.app
import cli.main
import workers.settings
from domain.settings import get_settings
from schema.app import schema

app = api.app.create_app(get_settings())
assert workers.settings.WorkerSettings.functions
assert cli.main.app.registered_commands
Path(sys.argv[1]).write_text(schema.as_str() + "\n")
print(f"Python {sys.version.split()[0]}: imports, app, worker settings and CLI OK")
PY
  then
    if diff -q <(sed -e '$a\' schema/schema.graphql) <(sed -e '$a\' "$work/schema-$version.graphql") >/dev/null; then
      passed=$((passed + 1))
    else
      echo "Python $version: the schema differs from schema/schema.graphql"
      failed=$((failed + 1))
    fi
  else
    failed=$((failed + 1))
  fi
done
echo "$passed passed, $failed failed"
[ "$failed" = 0 ] && [ "$passed" -gt 0 ]
