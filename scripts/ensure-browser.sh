#!/usr/bin/env bash
# The /invite browser tests drive Debian's Chromium through Playwright (Playwright's own
# browser download does not work here). Install it when missing and we may (root, apt).
set -euo pipefail
if [ -x /usr/bin/chromium ]; then
  exit 0
fi
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian's chromium for the browser tests..."
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
else
  echo "Note: /usr/bin/chromium is missing; the browser tests will fail. Install Debian's chromium package." >&2
fi
