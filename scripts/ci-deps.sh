#!/usr/bin/env bash
# System packages the test stages need on a fresh Debian/Ubuntu machine (run as root; .ci/run
# calls it): Chromium for the browser and real-VS-Code stages, libkrb5-dev for code-server's
# native `kerberos` module (compiled when code-server is installed into .cache/code-server).
set -euo pipefail
missing=()
[ -x /usr/bin/chromium ] || missing+=(chromium)
dpkg -s libkrb5-dev >/dev/null 2>&1 || missing+=(libkrb5-dev)
# node-gyp (code-server's native modules) needs a compiler, make and python3.
command -v g++ >/dev/null 2>&1 || missing+=(g++)
command -v make >/dev/null 2>&1 || missing+=(make)
command -v python3 >/dev/null 2>&1 || missing+=(python3)
if [ ${#missing[@]} -eq 0 ]; then
  echo "ci-deps: chromium, libkrb5-dev and the build tools are present"
  exit 0
fi
if [ "$(id -u)" -ne 0 ]; then
  echo "ci-deps: missing ${missing[*]}; run as root: apt-get install -y ${missing[*]}" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
echo "ci-deps: installing ${missing[*]}"
apt-get update -qq
apt-get install -y -qq --no-install-recommends "${missing[@]}"
