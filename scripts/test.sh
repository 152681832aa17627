#!/bin/sh
# The whole test suite: the optimized build's tests, then the same tests
# built with AddressSanitizer and UBSan, then built without SSE2, then the
# multi-threaded tests with ThreadSanitizer. Expects scripts/setup.sh to
# have run (it installs the packages and builds build/).
set -eu
cd "$(dirname "$0")/.."
jobs=$(nproc)

echo "== tests (optimized build)"
ctest --test-dir build --output-on-failure

echo "== tests under AddressSanitizer and UBSan"
cmake -S . -B build-asan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_WERROR=ON \
    -DTG_SANITIZE=address,undefined >/dev/null
cmake --build build-asan -j "$jobs" >/dev/null
ASAN_OPTIONS=detect_leaks=1:abort_on_error=1 UBSAN_OPTIONS=print_stacktrace=1 \
    ctest --test-dir build-asan --output-on-failure

echo "== tests of the portable code (the build without SSE2 that other architectures get)"
# Every vector loop has a plain C version for machines without SSE2 (ARM,
# with Vectorscan). On x86-64 the compiler always has SSE2, so those
# versions only run in a build told it has none; TG_CPU=sse2 keeps the
# AVX2 versions out too.
cmake -S . -B build-portable -DCMAKE_BUILD_TYPE=Release -DTG_WERROR=ON \
    -DCMAKE_C_FLAGS=-U__SSE2__ >/dev/null
cmake --build build-portable -j "$jobs" >/dev/null
TG_CPU=sse2 ctest --test-dir build-portable --output-on-failure -E '_sse2$'

echo "== multi-threaded tests under ThreadSanitizer"
# Criterion itself does not run under TSan, so the optimized test programs
# drive an instrumented tracegrep; a race makes it exit 66 with a report on
# stderr, which the tests see as a failure.
cmake -S . -B build-tsan -DCMAKE_BUILD_TYPE=RelWithDebInfo -DTG_WERROR=ON -DTG_TESTS=OFF \
    -DTG_SANITIZE=thread >/dev/null
cmake --build build-tsan -j "$jobs" --target tracegrep >/dev/null
TRACEGREP_BIN=$PWD/build-tsan/tracegrep TSAN_OPTIONS=halt_on_error=1:exitcode=66 \
    ctest --test-dir build --output-on-failure -R 'test_e2e|test_cli|test_formats'
