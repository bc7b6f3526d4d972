#!/usr/bin/env bash
# Installs what keel's tests and tools need on a fresh machine: redis-server
# and redis-cli. Go itself must already be on PATH.
set -euo pipefail

if ! command -v go >/dev/null 2>&1; then
  echo "setup: Go is not on PATH; install Go 1.25 or newer from https://go.dev/dl/" >&2
  exit 1
fi

if command -v redis-server >/dev/null 2>&1 && command -v redis-cli >/dev/null 2>&1; then
  exit 0
fi

echo "setup: installing redis-server and redis-tools"
sudo=""
if [ "$(id -u)" -ne 0 ]; then
  sudo="sudo"
fi
if command -v apt-get >/dev/null 2>&1; then
  $sudo apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq redis-server redis-tools
elif command -v brew >/dev/null 2>&1; then
  brew install redis
else
  echo "setup: install redis-server (7.0 or newer) and redis-cli, then run this again" >&2
  exit 1
fi
redis-server --version
