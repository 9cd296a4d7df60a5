#!/usr/bin/env bash
# Installs a software Vulkan driver (Mesa lavapipe) so Dawn can offer a WebGPU
# adapter on machines without a GPU. Idempotent: does nothing where an adapter
# already works. Debian 12's own Mesa (22.3) is too old for Dawn, so there we
# take Mesa from bookworm-backports; newer Debian/Ubuntu ship a recent enough one.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"

adapter_works() {
  [ -d "$here/node_modules/webgpu" ] || return 1
  (cd "$here" && timeout 60 node scripts/probe-adapter.mjs >/dev/null 2>&1)
}

if adapter_works; then
  echo "setup-gpu: a WebGPU adapter already works; nothing to do."
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  echo "setup-gpu: no apt-get here; install a Vulkan driver (Mesa >= 23 lavapipe or your GPU's) by hand." >&2
  exit 1
fi

sudo_cmd=""
if [ "$(id -u)" != "0" ]; then sudo_cmd="sudo"; fi

. /etc/os-release
if [ "${ID:-}" = "debian" ] && [ "${VERSION_CODENAME:-}" = "bookworm" ]; then
  src=/etc/apt/sources.list.d/debian.sources
  if [ -f "$src" ] && ! grep -q 'bookworm-backports' "$src"; then
    $sudo_cmd sed -i 's/^Suites: bookworm bookworm-updates$/& bookworm-backports/' "$src"
  fi
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq -t bookworm-backports mesa-vulkan-drivers
else
  $sudo_cmd apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq mesa-vulkan-drivers
fi

if [ -d "$here/node_modules/webgpu" ]; then
  if adapter_works; then
    echo "setup-gpu: WebGPU adapter available."
  else
    echo "setup-gpu: driver installed but Dawn still finds no adapter; run 'npx senseact doctor' for details." >&2
    exit 1
  fi
else
  echo "setup-gpu: driver installed; run 'npm install' then 'npx senseact doctor'."
fi
