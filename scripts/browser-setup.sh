#!/usr/bin/env bash
# Installs what the console's browser tests need, once: Debian's chromium (never a
# browser download) and playwright-core from npm (tests/browser/package-lock.json).
# Called by scripts/services.sh and by tests/console_browser.rs itself, so that both
# `bash scripts/test.sh` and a bare `cargo test` find them.
set -euo pipefail
cd "$(dirname "$0")/.."

if ! command -v chromium >/dev/null 2>&1; then
  if [ "$(id -u)" = "0" ] && command -v apt-get >/dev/null 2>&1; then
    echo "browser-setup: installing Debian's chromium" >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null 2>&1 \
      || { apt-get update -q >/dev/null 2>&1 && DEBIAN_FRONTEND=noninteractive apt-get install -y -q chromium >/dev/null; }
  else
    echo "browser-setup: chromium is missing; install Debian's package: sudo apt-get install chromium" >&2
    exit 1
  fi
fi

if [ ! -f tests/browser/node_modules/playwright-core/package.json ]; then
  if ! command -v npm >/dev/null 2>&1; then
    echo "browser-setup: npm is missing; install Node.js and npm (apt-get install nodejs npm)" >&2
    exit 1
  fi
  echo "browser-setup: installing playwright-core (npm ci in tests/browser)" >&2
  (cd tests/browser && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --silent)
fi
