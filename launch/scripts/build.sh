#!/usr/bin/env bash
# Configures and builds the project in build/ (Release). Extra arguments go to cmake's
# configure step, e.g. -DMLP_NATIVE=OFF for clusters whose nodes differ.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release "$@" >/dev/null
cmake --build "$root/build" -j "$(nproc)"
