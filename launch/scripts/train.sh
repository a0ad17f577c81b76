#!/usr/bin/env bash
# The main job: installs what building and running the trainer needs, builds the trainer and the
# sweep launcher (nothing of the test suite), and trains 784-256-128-10 on Fashion-MNIST under
# mpirun with one rank per core. Arguments are passed to the trainer (see --help);
# NP=4 sets the rank count.
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)"
"$root/launch/scripts/install_deps.sh" train
"$root/launch/scripts/build.sh" train
np="${NP:-$(nproc)}"
mpi_flags=(-np "$np")
(( np > $(nproc) )) && mpi_flags+=(--oversubscribe)
# Open MPI refuses root unless told; this script is often run as root on a fresh machine.
[[ $(id -u) -eq 0 ]] && mpi_flags+=(--allow-run-as-root)
cd "$root"
exec mpirun "${mpi_flags[@]}" build/trainer --out runs/fashion-mnist "$@"
