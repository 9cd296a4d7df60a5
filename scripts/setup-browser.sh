#!/usr/bin/env bash
# Installs Chromium for the browser tests (tests/web), which drive Debian's
# /usr/bin/chromium with playwright-core; nothing is downloaded by
# playwright itself. Idempotent: does nothing where the browser is already
# there. Set SENSEACT_CHROMIUM to use a browser elsewhere.
set -euo pipefail

browser="${SENSEACT_CHROMIUM:-/usr/bin/chromium}"
if [ -x "$browser" ]; then
  echo "setup-browser: $browser is installed ($("$browser" --version 2>/dev/null || echo 'version unknown')); nothing to do."
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-browser: no apt-get here; install Chromium by hand and set SENSEACT_CHROMIUM to its path." >&2
  exit 1
fi

sudo_cmd=""
if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi
$sudo_cmd apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq chromium

if [ -x "$browser" ]; then
  echo "setup-browser: installed $("$browser" --version 2>/dev/null || echo "$browser")."
else
  echo "setup-browser: the chromium package did not provide $browser (on Ubuntu it is a snap); set SENSEACT_CHROMIUM to a Chromium binary." >&2
  exit 1
fi
