#!/bin/sh
# Installs what tracegrep needs on Debian 12 (only what is missing), then
# configures and builds it in build/. Run as root on a fresh machine, or as
# any user once the packages are there. Used by the README's quick start and
# by CI.
#
#   TG_BUILD_DIR   build folder (default: build)
#   TG_CMAKE_ARGS  extra arguments for cmake's configure step
set -eu
cd "$(dirname "$0")/.."

# Hyperscan is x86-64 only; Vectorscan is its portable fork with the same
# API and pkg-config name (libhs), and either one will do.
hs_pkg=libhyperscan-dev
case "$(dpkg --print-architecture 2>/dev/null || echo amd64)" in
amd64) ;;
*) hs_pkg=libvectorscan-dev ;;
esac
# zlib1g-dev: the reference gzip decoder of fuzz/fuzz_reader.c, built for ctest.
pkgs="build-essential cmake pkg-config libzstd-dev libisal-dev libcriterion-dev zlib1g-dev zstd gzip"
missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "ok installed" || missing="$missing $p"
done
if ! pkg-config --exists libhs 2>/dev/null; then
    missing="$missing $hs_pkg"
fi
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "setup: missing packages:$missing (run as root, or: sudo apt-get install$missing)" >&2
        exit 1
    fi
    echo "setup: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >/dev/null
fi

build=${TG_BUILD_DIR:-build}
# shellcheck disable=SC2086
cmake -S . -B "$build" -DCMAKE_BUILD_TYPE=Release -DTG_WERROR=ON ${TG_CMAKE_ARGS:-} >/dev/null
cmake --build "$build" -j "$(nproc)" >/dev/null
echo "setup: built $build/tracegrep" >&2
