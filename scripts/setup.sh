#!/usr/bin/env bash
# Installs the Debian packages Chimera needs (only those missing), then configures and builds.
# Usage: scripts/setup.sh [build-dir]   (default: build)
set -euo pipefail
cd "$(dirname "$0")/.."
BUILD_DIR="${1:-build}"

PACKAGES=(g++ cmake ninja-build libopenblas-openmp-dev libdnnl-dev libyaml-cpp-dev
          nlohmann-json3-dev libcli11-dev libgtest-dev libgmock-dev libcurl4-openssl-dev
          libarchive-dev libssl-dev zlib1g-dev python3 python3-matplotlib
          dataset-fashion-mnist fortunes libopenmpi-dev openmpi-bin openssh-client
          pybind11-dev python3-dev python3-numpy python3-pytest python3-torch)
missing=()
for p in "${PACKAGES[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
  echo "[setup] installing: ${missing[*]}"
  if [ "$(id -u)" -ne 0 ]; then
    echo "[setup] error: packages missing and not root; run as root or install: ${missing[*]}" >&2
    exit 1
  fi
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

cmake -S . -B "$BUILD_DIR" -G Ninja -DCMAKE_BUILD_TYPE=Release > "$BUILD_DIR.configure.log" 2>&1 ||
  { cat "$BUILD_DIR.configure.log"; exit 1; }
rm -f "$BUILD_DIR.configure.log"
ninja -C "$BUILD_DIR"

# Debian's python3 finds this build's Python module (`import chimera`) through a .pth file in
# its site folder for /usr/local; `cmake --install build` installs the module for good instead.
if [ "$(id -u)" -eq 0 ] && [ -d "$BUILD_DIR/python/chimera" ] && [ -x /usr/bin/python3 ]; then
  SITE="$(/usr/bin/python3 -c 'import sys; print(f"/usr/local/lib/python{sys.version_info.major}.{sys.version_info.minor}/dist-packages")')"
  mkdir -p "$SITE" && echo "$(cd "$BUILD_DIR" && pwd)/python" > "$SITE/chimera-build.pth"
fi

# llama.cpp's prebuilt CPU library, through the npm package node-llama-cpp (pinned; it loads
# offline), for the test that runs our GGUF export in llama.cpp (tests/llama_cpp/). Outside the
# source tree, in the build folder; never committed.
NODE_DIR="$BUILD_DIR/node-llama-cpp"
if [ ! -d "$NODE_DIR/node_modules/node-llama-cpp" ]; then
  if ! command -v npm > /dev/null; then
    echo "[setup] installing: nodejs npm"
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends nodejs npm
  fi
  echo "[setup] installing node-llama-cpp@3.21.1 into $NODE_DIR"
  mkdir -p "$NODE_DIR"
  (cd "$NODE_DIR" && npm init -y > /dev/null &&
     npm install -E --no-audit --no-fund node-llama-cpp@3.21.1 > npm-install.log 2>&1) ||
    { cat "$NODE_DIR/npm-install.log"; exit 1; }
fi
