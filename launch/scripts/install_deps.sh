#!/usr/bin/env bash
# Installs, from Debian's archive, whatever of a set of packages is missing.
# Usage: install_deps.sh train|test
#   train: what building and running the trainer and the sweep launcher need, and the data
#   test:  that, plus what the test suite and the benchmarks use (GoogleTest, clang and
#          libFuzzer, SLURM and munge, namespaces, the ONNX checker, PyTorch and matplotlib)
set -euo pipefail

train_packages=(build-essential cmake pkg-config zlib1g-dev
                libeigen3-dev libprotobuf-dev protobuf-compiler
                libboost-program-options-dev libopenblas-dev libdnnl-dev
                libopenmpi-dev openmpi-bin libonnx-dev
                dataset-fashion-mnist)
test_packages=("${train_packages[@]}"
               libgtest-dev python3 python3-onnx python3-numpy
               clang libfuzzer-14-dev slurm-wlm munge util-linux iproute2 mount
               python3-torch python3-matplotlib)

case "${1:-}" in
  train) packages=("${train_packages[@]}") ;;
  test) packages=("${test_packages[@]}") ;;
  *) echo "usage: install_deps.sh train|test" >&2; exit 2 ;;
esac

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done
[[ ${#missing[@]} -eq 0 ]] && exit 0

sudo_cmd=()
if [[ $(id -u) -ne 0 ]]; then sudo_cmd=(sudo); fi
echo "installing: ${missing[*]}" >&2
export DEBIAN_FRONTEND=noninteractive
"${sudo_cmd[@]}" apt-get update -qq
"${sudo_cmd[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
