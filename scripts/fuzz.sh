#!/usr/bin/env bash
# Builds the libFuzzer targets in fuzz/ and runs each for SECONDS (default 60),
# one after the other, then prints per target the executions, the coverage
# (libFuzzer's final "cov:": edges of tracegrep's code reached) and the
# crashes.
#
#   scripts/fuzz.sh [SECONDS] [TARGET...]     TARGET: xray alb time reader json line formats collect
#
# Everything goes under build-fuzz/: the binaries, seeds/<target>/ (rebuilt on
# every run from samples/, ../shared/formats/ and tests/fixtures/),
# corpus/<target>/ (what libFuzzer found; kept between runs), crashes/<target>/
# (the inputs that crashed) and logs/<target>.log. Inputs kept in
# fuzz/regressions/fuzz_<target>-*.bin are replayed first.
#
# Exits 1 when a target crashed or a regression input still crashes, 2 when
# the targets cannot be built. Run as root, it installs the Debian packages
# that are missing (clang's fuzzer runtime is in libclang-rt-<N>-dev).
#
#   CC                  the compiler (default clang)
#   TG_FUZZ_KEEP_GOING  1: go on after a crash (libFuzzer's -fork=1
#                       -ignore_crashes=1), saving every distinct crash, so
#                       that a known bug does not end the run at once
set -uo pipefail
cd "$(dirname "$0")/.." || exit 2

secs=${1:-60}
case "$secs" in
'' | *[!0-9]*)
    echo "usage: scripts/fuzz.sh [SECONDS] [TARGET...]" >&2
    exit 2
    ;;
esac
[ $# -gt 0 ] && shift
all_targets="xray alb time reader json line formats collect"
targets=${*:-$all_targets}

out=build-fuzz
CC=${CC:-clang}
CFLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=all -std=c11 -D_GNU_SOURCE -Isrc"
# The target's own file (its checks and reference decoders) is built with the
# sanitizers but without libFuzzer's coverage: its branches would only steer
# the fuzzer towards the checking code, count in "cov", and slow every run
# (in fuzz_reader, three times over).
HARNESS_CFLAGS="-g -O1 -fsanitize=address,undefined -fno-sanitize-recover=all -std=c11 -D_GNU_SOURCE -Isrc"
# Files that define _GNU_SOURCE themselves would warn about the -D.
WFLAGS="-Wall -Wextra -Wno-macro-redefined"

# The sources of tracegrep a target needs: for every header of src/ that the
# target includes, directly or through other headers and sources, the .c file
# of the same name; plus the files that implement a header of another name
# (gzip.c and zstd.c implement input/codec.h; applog_json.c, part of
# decode/applog.h; gather.c, part of engine/engine.h; readahead.c, part of
# input/reader.h).
target_extra_srcs() {
    case "$1" in
    reader | collect) echo "src/input/gzip.c src/input/zstd.c" ;;
    esac
}
header_extra_srcs() {
    case "$1" in
    decode/applog.h) echo "src/decode/applog_json.c" ;;
    engine/engine.h) echo "src/engine/gather.c" ;;
    input/reader.h) echo "src/input/readahead.c" ;;
    esac
}
target_srcs() {
    local todo seen="" f h c
    todo="fuzz/fuzz_$1.c $(target_extra_srcs "$1")"
    while [ -n "$todo" ]; do
        # shellcheck disable=SC2086
        set -- $todo
        f=$1
        shift
        todo="$*"
        case " $seen " in *" $f "*) continue ;; esac
        seen="$seen $f"
        # shellcheck disable=SC2013 # include paths have no blanks
        for h in $(sed -n 's/^#include "\([^"]*\)".*/\1/p' "$f"); do
            [ -f "src/$h" ] || continue
            todo="$todo src/$h"
            c=src/${h%.h}.c
            [ -f "$c" ] && todo="$todo $c"
            todo="$todo $(header_extra_srcs "$h")"
        done
    done
    for f in $seen; do
        case "$f" in src/*.c) echo "$f" ;; esac
    done
}
# What each target links, and the longest input it is given.
target_libs() {
    case "$1" in
    reader) echo "-lisal -lzstd -lz" ;; # zlib: the reference gzip decoder
    line) echo "-lhs" ;;
    collect) echo "-lhs -lisal -lzstd -lpthread" ;;
    esac
}
target_max_len() {
    case "$1" in
    xray) echo 1024 ;;
    time) echo 128 ;;
    reader) echo 65536 ;;
    *) echo 4096 ;;
    esac
}

for t in $targets; do
    case " $all_targets " in
    *" $t "*) ;;
    *)
        echo "fuzz: unknown target '$t' (targets: $all_targets)" >&2
        exit 2
        ;;
    esac
done

# ---- toolchain ---------------------------------------------------------------

mkdir -p "$out"

probe_fuzzer() {
    printf '%s\n' '#include <stddef.h>' '#include <stdint.h>' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n);' \
        'int LLVMFuzzerTestOneInput(const uint8_t *d, size_t n) { (void)d; (void)n; return 0; }' \
        >"$out/probe.c"
    "$CC" -fsanitize=fuzzer,address,undefined "$out/probe.c" -o "$out/probe" >"$out/probe.log" 2>&1
}

install_pkgs() {
    if [ "$(id -u)" -ne 0 ]; then
        echo "fuzz: missing:$* (run as root, or: sudo apt-get install$*)" >&2
        exit 2
    fi
    echo "fuzz: installing$*" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq || exit 2
    apt-get install -y -qq --no-install-recommends "$@" >/dev/null || exit 2
}

missing=""
if ! command -v "$CC" >/dev/null 2>&1; then
    [ "$CC" = clang ] || { echo "fuzz: $CC not found" >&2; exit 2; }
    missing="$missing clang"
fi
for tool in gzip zstd; do
    command -v $tool >/dev/null 2>&1 || missing="$missing $tool"
done
pkg-config --exists libisal 2>/dev/null || missing="$missing libisal-dev"
pkg-config --exists libzstd 2>/dev/null || missing="$missing libzstd-dev"
pkg-config --exists zlib 2>/dev/null || missing="$missing zlib1g-dev"
if ! pkg-config --exists libhs 2>/dev/null; then
    case "$(dpkg --print-architecture 2>/dev/null || echo amd64)" in
    amd64) missing="$missing libhyperscan-dev" ;;
    *) missing="$missing libvectorscan-dev" ;;
    esac
fi
command -v pkg-config >/dev/null 2>&1 || missing="$missing pkg-config"
# shellcheck disable=SC2086 # one word per package
[ -n "$missing" ] && install_pkgs $missing

if ! probe_fuzzer; then
    # Debian ships libFuzzer's runtime (libclang_rt.fuzzer-*.a) in clang's
    # runtime package, which plain "clang" does not pull in.
    ver=$("$CC" --version | sed -n 's/.*clang version \([0-9]*\).*/\1/p' | head -n 1)
    echo "fuzz: $CC cannot link -fsanitize=fuzzer:" >&2
    sed 's/^/  /' "$out/probe.log" | tail -n 5 >&2
    [ -n "$ver" ] || exit 2
    install_pkgs "libclang-rt-$ver-dev"
    probe_fuzzer || {
        echo "fuzz: still cannot link -fsanitize=fuzzer, see $out/probe.log" >&2
        exit 2
    }
fi
rm -f "$out/probe" "$out/probe.c" "$out/probe.log"

# ---- build -------------------------------------------------------------------

build() {
    local t=$1 bin=$out/fuzz_$1 obj=$out/obj/$1 objs="" f o
    # Rebuilt when any source, header or this script is newer than the binary.
    if [ -x "$bin" ] && [ -z "$(find src fuzz scripts/fuzz.sh -newer "$bin" \( -name '*.[ch]' -o -name fuzz.sh \) -print -quit)" ]; then
        return 0
    fi
    echo "fuzz: building $bin" >&2
    rm -rf "$obj"
    mkdir -p "$obj"
    # shellcheck disable=SC2086
    "$CC" $HARNESS_CFLAGS $WFLAGS -c "fuzz/fuzz_$t.c" -o "$obj/fuzz_$t.o" || return 1
    for f in $(target_srcs "$t"); do
        o=$obj/$(basename "$f" .c).o
        # shellcheck disable=SC2086
        "$CC" $CFLAGS $WFLAGS -c "$f" -o "$o" || return 1
        objs="$objs $o"
    done
    # shellcheck disable=SC2086,SC2046 # flag and file lists
    "$CC" $CFLAGS "$obj/fuzz_$t.o" $objs $(target_libs "$t") -o "$bin"
}

for t in $targets; do
    build "$t" || {
        echo "fuzz: cannot build fuzz_$t" >&2
        exit 2
    }
done

# ---- seeds -------------------------------------------------------------------

seeds=$out/seeds
for t in $targets; do
    rm -rf "${seeds:?}/$t"
    mkdir -p "$seeds/$t"
done
work=$seeds/.work.$$ # per run: several runs may go at once
mkdir -p "$work"

# The text of a file whatever its format (chosen by magic, as tracegrep does).
text_of() {
    case "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" in
    1f8b*) gzip -dc "$1" ;;
    28b52ffd | 502a4d18) zstd -dcq "$1" ;;
    *) cat "$1" ;;
    esac
}

# Stores stdin as a seed of target $1 named $2.
seed() {
    cat >"$seeds/$1/$2"
}

# Every stdin line as its own seed of target $1 (without its newline),
# named $2-N.
seed_lines() {
    awk -v dir="$seeds/$1" -v pre="$2" '{ f = dir "/" pre "-" NR; printf "%s", $0 > f; close(f) }'
}

sample_files=$(find samples -type f | sort)
format_logs=$(ls ../shared/formats/*.log tests/fixtures/*.log 2>/dev/null)
xray_cases=$(ls ../shared/formats/xray-header-cases.tsv tests/fixtures/xray-header-cases.tsv 2>/dev/null)

# A few lines of every sample file (first, middle, last), and all of the
# documentation examples.
: >"$work/lines"
for f in $sample_files; do
    text_of "$f" 2>/dev/null | awk '{ l[NR] = $0 } END { if (NR) { print l[1]; print l[int((NR + 1) / 2)]; print l[NR] } }' >>"$work/lines"
done
for f in $format_logs; do cat "$f" >>"$work/lines"; done
sort -u "$work/lines" >"$work/lines.u"
# The text of the first samples, for the block-oriented targets.
for f in $(echo "$sample_files" | head -n 6); do text_of "$f" 2>/dev/null; done >"$work/text"

want() { case " $targets " in *" $1 "*) return 0 ;; esac; return 1; }

if want alb; then
    seed_lines alb line <"$work/lines.u"
fi

if want xray; then
    {
        grep -ohE '"[^"]*(Root|Self|Parent|Sampled|Lineage)=[^"]*"' "$work/lines.u" | tr -d '"'
        for f in $xray_cases; do grep -v '^#' "$f" | cut -f2; done
        for f in $xray_cases; do
            grep -v '^#' "$f" | cut -f3 | grep -v '^-$' | while read -r id; do
                echo "$id"
                echo "Root=$id"
                echo "  root=$id "
                echo "$id" | sed 's/^1-//; s/-//g'
            done
        done
    } | sort -u | seed_lines xray hdr
fi

if want time; then
    {
        grep -ohE '[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z' "$work/lines.u" | sort -u | head -n 20
        for frac in "" . .1 .12 .123 .1234 .12345 .123456 .1234567 .12345678 .123456789 .1234567890; do
            echo "2024-02-29T23:59:59${frac}Z"
        done
        echo "0000-01-01T00:00:00Z"
        echo "9999-12-31T23:59:59.999999Z"
        echo "1969-12-31T23:59:59.999999Z"
        awk '$1 ~ /^(http|https|h2|grpcs|ws|wss)$/ { print $6; print $7; print $8 }' "$work/lines.u" | sort -u | head -n 20
        printf '%s\n' - -1 0 0.0 12.3456785 12.3456784 999999999999.9999995 1000000000000
    } | seed_lines time t
fi

if want json; then
    {
        # The quoted fields of the lines: requests, user agents, actions.
        grep -ohE '"[^"]*"' "$work/lines.u" | tr -d '"' | sort -u | head -n 60
        # Whole lines, and one past json_alb_field()'s 1 KiB stack buffer.
        head -n 10 "$work/lines.u"
        head -n 8 "$work/lines.u" | tr '\n' ' ' | sed 's/ /\\x20/g'
        echo
        printf '%s\n' 'GET /a\x22b HTTP/1.1' 'caf\xC3\xA9 \xE2\x80\x94 \x00000022' 'x\\y\"z\q' \
            - -1 0.086 200 1e-5 -0.0
        printf 'bad \xff \xc0\x80 \xed\xa0\x80 \xf4\x90\x80\x80 ok \xf0\x9f\x98\x80 \x01\x7f\n'
    } | seed_lines json s
fi

if want line; then
    # Blocks of whole lines up to 4000 bytes, and each documentation log.
    awk -v dir="$seeds/line" '
        { if (n && len + length($0) + 1 > 4000) { close(f); n = 0 }
          if (!n) { blocks++; f = dir "/block-" blocks; len = 0 }
          print > f; n++; len += length($0) + 1 }
        blocks > 40 { exit }' "$work/text"
    i=0
    for f in $format_logs; do
        i=$((i + 1))
        seed line "log-$i" <"$f"
        sed 's/$/\r/' "$f" | seed line "crlf-$i"
    done
fi

if want collect; then
    # Blocks of ALB lines, the first byte choosing the line limit and the
    # mode, with lines of other shapes mixed in.
    i=0
    for f in $sample_files; do
        case "$f" in *elasticloadbalancing*) ;; *) continue ;; esac
        i=$((i + 1))
        [ $i -le 8 ] || break
        { printf "\\$(printf %o $((i % 4)))"; zcat -f "$f" | head -c 3500; } | seed collect "alb-$i"
        { printf '\001'; zcat -f "$f" | head -n 3; head -n 3 "$work/text"; } | seed collect "mixed-$i"
    done
fi

if want reader; then
    # Whole archives as they are, small enough for -max_len.
    i=0
    for f in $sample_files; do
        i=$((i + 1))
        case "$f" in
        *.gz) [ $i -le 10 ] || continue ;;
        esac
        head -c 65536 "$f" | seed reader "sample-$i"
    done
    # Short and long lines mixed, so that the 64-byte limit both passes and
    # skips lines; then the shapes the decoders must handle.
    awk '{ print substr($0, 1, NR % 70); if (NR % 5 == 0) print }' "$work/text" | head -c 30000 >"$work/mixed"
    head -c 40000 "$work/text" >"$work/plain"
    seed reader plain-mixed <"$work/mixed"
    seed reader plain <"$work/plain"
    gzip -nc <"$work/mixed" | seed reader gz-mixed
    gzip -nc <"$work/mixed" >"$work/m1.gz"
    printf 'tail without newline' | gzip -nc >"$work/m2.gz"
    cat "$work/m1.gz" "$work/m2.gz" | seed reader gz-two-members
    { cat "$work/m2.gz"; head -c 300 /dev/zero; } | seed reader gz-zero-padding
    { cat "$work/m2.gz"; printf 'junk'; } | seed reader gz-trailing-garbage
    head -c 100 "$work/m1.gz" | seed reader gz-truncated
    cp "$work/mixed" "$work/named"
    gzip -c "$work/named" | seed reader gz-fname
    printf '' | gzip -nc | seed reader gz-empty
    zstd -qc --no-check <"$work/mixed" | seed reader zst-mixed
    zstd -qc -19 --long=20 <"$work/mixed" | seed reader zst-long
    printf 'x\n' | zstd -qc >"$work/z2.zst"
    { zstd -qc <"$work/mixed"; cat "$work/z2.zst"; } | seed reader zst-two-frames
    { printf '\x50\x2a\x4d\x18\x04\x00\x00\x00abcd'; cat "$work/z2.zst"; } | seed reader zst-skippable
    head -c 50 "$work/z2.zst" | seed reader zst-truncated
    # Megabytes out of a few kilobytes: past the reader's 1 MiB line buffer,
    # with lines on both sides of the limit, and one line of 2 MB.
    awk 'BEGIN { x = "x"; while (length(x) < 100) x = x x; for (i = 0; i < 60000; i++) print substr(x, 1, (i * 7) % 101) }' >"$work/big"
    gzip -nc -9 <"$work/big" | seed reader gz-big
    zstd -qc -19 <"$work/big" | seed reader zst-big
    { printf 'first\n'; head -c 2000000 /dev/zero | tr '\0' 'a'; printf '\nlast\n'; } >"$work/huge"
    gzip -nc -9 <"$work/huge" | seed reader gz-huge-line
    zstd -qc -19 <"$work/huge" | seed reader zst-huge-line
fi
# Hand-made seeds kept in the repository (gzip headers with every flag...).
for t in $targets; do
    [ -d "fuzz/seeds/$t" ] && cp fuzz/seeds/"$t"/* "$seeds/$t/"
done
rm -rf "$work"

# ---- run ---------------------------------------------------------------------

export ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0}
export UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1}

# The inputs libFuzzer saved in folder $1 (not the .min files of minimizing).
count_artifacts() {
    local n=0 f
    for f in "$1"/crash-* "$1"/leak-* "$1"/timeout-* "$1"/oom-*; do
        case "$f" in *.min) continue ;; esac
        [ -e "$f" ] && n=$((n + 1))
    done
    echo $n
}

failed=0
report=""
for t in $targets; do
    bin=$out/fuzz_$t
    corpus=$out/corpus/$t
    crashes=$out/crashes/$t
    log=$out/logs/$t.log
    mkdir -p "$corpus" "$crashes" "$out/logs"

    # Known crashers first: each one that still crashes is reported.
    known=0
    for r in fuzz/regressions/fuzz_"$t"-*.bin; do
        [ -e "$r" ] || continue
        if ! "$bin" -artifact_prefix="$out/logs/" "$r" >"$out/logs/$t.regression.log" 2>&1; then
            known=$((known + 1))
            echo "fuzz: fuzz_$t: $r still crashes (see $out/logs/$t.regression.log)" >&2
        fi
    done
    if [ $known -ne 0 ] && [ "${TG_FUZZ_KEEP_GOING:-0}" != 1 ]; then
        echo "fuzz: fuzz_$t will likely stop at that bug at once; TG_FUZZ_KEEP_GOING=1 goes on" >&2
    fi

    dict=""
    [ -f "fuzz/fuzz_$t.dict" ] && dict="-dict=fuzz/fuzz_$t.dict"
    mode=""
    [ "${TG_FUZZ_KEEP_GOING:-0}" = 1 ] && mode="-fork=1 -ignore_crashes=1"
    before=$(count_artifacts "$crashes")
    echo "fuzz: running fuzz_$t for ${secs}s" >&2
    # shellcheck disable=SC2086
    "$bin" -max_total_time="$secs" -max_len="$(target_max_len "$t")" -rss_limit_mb=2048 \
        -timeout=30 -print_final_stats=1 -artifact_prefix="$crashes/" $dict $mode \
        "$corpus" "$seeds/$t" >"$log" 2>&1
    rc=$?
    after=$(count_artifacts "$crashes")
    execs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$log" | tail -n 1)
    # -fork=1 prints no final stats, only "#EXECS: cov: …" lines (whose cov
    # counts differently: compare it only with other -fork=1 runs).
    [ -n "$execs" ] || execs=$(sed -n 's/^#\([0-9]*\): cov:.*/\1/p' "$log" | tail -n 1)
    cov=$(grep -o 'cov: [0-9]*' "$log" | tail -n 1 | cut -d' ' -f2)
    new=$((after - before))
    # A crash that libFuzzer could not save still counts.
    if [ $rc -ne 0 ] && [ $new -eq 0 ]; then new=1; fi
    artifact=$(sed -n 's/.*Test unit written to \(.*\)$/\1/p' "$log" | tail -n 1)
    report="$report$(printf '%-8s %12s %8s %8s %6s  %s' "$t" "${execs:-?}" "${cov:-?}" "$new" \
        "$known" "$artifact")
"
    if [ $new -ne 0 ] || [ $known -ne 0 ]; then
        failed=1
    fi
    if [ $rc -ne 0 ]; then
        echo "fuzz: fuzz_$t crashed, see $log" >&2
        grep -m 3 -E 'ERROR: |runtime error|invariant broken' "$log" | sed 's/^/  /' >&2
        [ -n "$artifact" ] && echo "  reproduce: $bin $artifact" >&2 &&
            echo "  minimize:  $bin -minimize_crash=1 -runs=100000 -exact_artifact_path=$artifact.min $artifact" >&2
    fi
done

printf '%-8s %12s %8s %8s %6s  %s\n' target executions cov crashes known artifact
printf '%s' "$report"
exit $failed
