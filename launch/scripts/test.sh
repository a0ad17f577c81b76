#!/usr/bin/env bash
# The test suite: installs what is missing, builds, and runs every test (unit tests in parallel,
# MPI tests one at a time) with CTest.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$root/launch/scripts/install_deps.sh" test
"$root/launch/scripts/build.sh" test
cd "$root/build"
ctest --output-on-failure -j "$(nproc)" "$@"
