#!/usr/bin/env bash
# Install the Debian packages of scripts/debian-packages.txt that are missing, when we may
# (root with apt-get); otherwise say which are missing. Playwright's own browser download
# does not work here: the browser tests use Debian's Chromium.
set -euo pipefail
cd "$(dirname "$0")"
missing=()
while read -r line; do
  package="${line%%#*}"
  package="${package//[[:space:]]/}"
  [ -z "$package" ] && continue
  dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" \
    || missing+=("$package")
done < debian-packages.txt
[ ${#missing[@]} -eq 0 ] && exit 0
if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null; then
  echo "Installing Debian packages for the tests: ${missing[*]}"
  DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null 2>&1 \
    || { apt-get update -q >/dev/null \
         && DEBIAN_FRONTEND=noninteractive apt-get install -y -q --no-install-recommends "${missing[@]}" >/dev/null; }
else
  echo "Note: missing Debian packages, some tests will fail: ${missing[*]}" >&2
fi
