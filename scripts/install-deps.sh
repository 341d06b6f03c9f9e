#!/usr/bin/env bash
# Installs saturn's build and test dependencies from Debian's packages.
# Idempotent: checks what is installed first, runs `apt-get update` at most once,
# installs only what is missing. Must run as root (or with sudo available).
#   scripts/install-deps.sh            build + test dependencies
#   scripts/install-deps.sh --interop  also python3-torch + libopenblas (PyTorch parity tests)
#   scripts/install-deps.sh --fuzz     also clang + libclang-rt-14-dev (libFuzzer: make fuzz)
set -euo pipefail

packages=(
  build-essential cmake pkg-config
  libboost-graph-dev libboost-dev   # Boost.Graph, Boost.Multiprecision (header-only)
  libgmp-dev                        # GMP backend of Boost.Multiprecision: exact circuits
  libeigen3-dev libz3-dev catch2 libfmt-dev libcli11-dev
  libtomlplusplus-dev nlohmann-json3-dev
  graphviz gnuplot-nox
  openmpi-bin libopenmpi-dev       # saturn sweep across machines (mpirun)
  python3                          # make doctest (scripts/doctest.py)
  python3-dev pybind11-dev python3-pybind11 python3-numpy python3-pytest  # `import saturn` (make python)
  python3-matplotlib               # examples/python/loop.py saves the attention pattern (optional for the package)
)
for option in "$@"; do
  case "$option" in
    --interop) packages+=(python3-torch libopenblas-dev python3-numpy) ;;
    --fuzz) packages+=(clang libclang-rt-14-dev libomp-14-dev) ;;
    *) echo "install-deps: unknown option $option" >&2; exit 2 ;;
  esac
done

missing=()
for p in "${packages[@]}"; do
  if ! dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed"; then
    missing+=("$p")
  fi
done

if [[ ${#missing[@]} -eq 0 ]]; then
  echo "install-deps: all ${#packages[@]} packages present"
  exit 0
fi

echo "install-deps: installing ${missing[*]}"
sudo=""
if [[ $(id -u) -ne 0 ]]; then
  command -v sudo >/dev/null || { echo "install-deps: not root and no sudo; install: ${missing[*]}" >&2; exit 1; }
  sudo=sudo
fi
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
