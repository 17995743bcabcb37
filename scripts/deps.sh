#!/usr/bin/env bash
# deps.sh MODE — make sure the system packages volcard needs are installed.
#   MODE=run    what `make run` needs (C toolchain and PC/SC headers to build the binary)
#   MODE=test   what `make test` / `make bench` need: adds pcscd, the vpcd driver, PostgreSQL, and
#               Debian's chromium with CJK fonts for the console's browser tests, and docker-compose
#               (Debian's, to validate docker-compose.yml; no Docker daemon is needed)
# As root it installs what is missing with apt-get; otherwise it prints the exact command and fails.
set -euo pipefail
mode=${1:-test}

pkgs=(gcc pkg-config libpcsclite-dev)
case "$mode" in
  run) ;;
  test|bench) pkgs+=(pcscd vsmartcard-vpcd postgresql chromium fonts-noto-cjk docker-compose) ;;
  *) echo "deps.sh: unknown mode '$mode' (run|test|bench)" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed'; then
    missing+=("$p")
  fi
done

if ! command -v go >/dev/null 2>&1; then
  echo "deps.sh: the Go toolchain (>= 1.26) is not on PATH. Install it from https://go.dev/dl and add /usr/local/go/bin to PATH." >&2
  exit 1
fi

if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi

if [ "$(id -u)" -ne 0 ]; then
  echo "deps.sh: missing system packages: ${missing[*]}" >&2
  echo "Install them with:" >&2
  echo "    sudo apt-get update && sudo apt-get install -y ${missing[*]}" >&2
  echo "then run this command again." >&2
  exit 1
fi

echo "deps.sh: installing ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}" >&2
# Debian's postgresql package creates and starts a default cluster through
# systemd on some machines; the tests never use it, they start their own.
