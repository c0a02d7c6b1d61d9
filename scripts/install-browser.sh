#!/usr/bin/env bash
# Makes a Chromium available to Playwright: its own build when the download works, otherwise
# Debian's package at /usr/bin/chromium (which adapters/browser picks up automatically).
set -euo pipefail
PY="${1:-python3}"

bundled() {
  "$PY" - <<'PYEOF'
import os, sys
from playwright.sync_api import sync_playwright
with sync_playwright() as p:
    sys.exit(0 if os.path.exists(p.chromium.executable_path) else 1)
PYEOF
}

if bundled 2>/dev/null; then
  echo "browser: Playwright's Chromium is installed"
  exit 0
fi
echo "browser: trying Playwright's download"
if timeout 300 "$PY" -m playwright install chromium >/dev/null 2>&1 && bundled 2>/dev/null; then
  echo "browser: Playwright's Chromium is installed"
  exit 0
fi
if [ -x /usr/bin/chromium ]; then
  echo "browser: Playwright's download is unreachable; using Debian's Chromium at /usr/bin/chromium"
  exit 0
fi
echo "browser: Playwright's download is unreachable; installing Debian's chromium package"
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq chromium >/dev/null
if [ ! -x /usr/bin/chromium ]; then
  echo "browser: no Chromium could be installed" >&2
  exit 1
fi
echo "browser: using Debian's Chromium at /usr/bin/chromium"
