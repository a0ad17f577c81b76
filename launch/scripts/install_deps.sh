#!/usr/bin/env bash
# Installs, from Debian's archive, whatever of the build, test and data packages is missing.
# Usage: install_deps.sh [--with-bench]   (--with-bench adds PyTorch and matplotlib references)
set -euo pipefail

packages=(build-essential cmake pkg-config zlib1g-dev
          libeigen3-dev libprotobuf-dev protobuf-compiler
          libboost-program-options-dev libgtest-dev libopenblas-dev
          libdnnl-dev ocl-icd-opencl-dev
          libopenmpi-dev openmpi-bin
          libonnx-dev python3-onnx python3-numpy
          dataset-fashion-mnist python3
          clang libfuzzer-14-dev slurm-wlm munge util-linux
          iproute2 mount)
if [[ "${1:-}" == "--with-bench" ]]; then
  packages+=(python3-torch python3-matplotlib python3-numpy)
fi

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
