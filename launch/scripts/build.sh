#!/usr/bin/env bash
# Configures and builds the project in build/ (Release).
# Usage: build.sh train|test [CMAKE_ARGS...]
#   train: the trainer and the sweep launcher only (no GoogleTest, clang or fuzz tree needed)
#   test:  everything: the programs, the benchmarks, the tests and the sanitized fuzz tree
# CMAKE_ARGS go to cmake's configure step, e.g. -DMLP_NATIVE=OFF for clusters whose nodes differ.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
what=${1:-}
shift || true
case "$what" in
  train) tests=OFF targets=(--target trainer sweep) ;;
  test) tests=ON targets=() ;;
  *) echo "usage: build.sh train|test [CMAKE_ARGS...]" >&2; exit 2 ;;
esac
cmake -S "$root" -B "$root/build" -DCMAKE_BUILD_TYPE=Release -DMLP_TESTS=$tests "$@" >/dev/null
cmake --build "$root/build" -j "$(nproc)" "${targets[@]}"
