#!/usr/bin/env bash
# The dashboard test drives Debian's Chromium through Playwright (no browser download). Install it if missing.
set -euo pipefail
if command -v chromium >/dev/null 2>&1; then
  exit 0
fi
if ! command -v apt-get >/dev/null 2>&1; then
  echo "chromium is missing and apt-get is not available: install Chromium and set CHROMIUM_PATH" >&2
  exit 1
fi
as_root=()
if [ "$(id -u)" != "0" ]; then
  command -v sudo >/dev/null 2>&1 || { echo "installing chromium needs root (or sudo)" >&2; exit 1; }
  as_root=(sudo)
fi
echo "installing Debian's chromium for the browser test…"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get install -y -qq chromium >/dev/null 2>&1 || {
  "${as_root[@]}" apt-get update -qq && "${as_root[@]}" apt-get install -y -qq chromium >/dev/null
}
command -v chromium >/dev/null
