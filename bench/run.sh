#!/usr/bin/env bash
# tracegrep's benchmark: builds, generates the data once (cached in
# bench/data/), runs every case several times, and writes the medians,
# ratios, throughput and peak memory to bench/RESULTS.md with the machine and
# the date. Peers that are missing are skipped with a note, never faked.
#
#   bench/run.sh [--runs N] [--size 1G] [--scale SIZE] [--with-peers] [--with-duckdb]
#
# --scale SIZE (8G, say) adds a second, larger file of ALB logs, and runs
# stats and timelines over it to compare their time per GB with the first:
# what a growing table costs. It takes SIZE of disk, and as much page cache.
# --with-peers installs, as root, the Debian packages of the command-line
# peers that are missing (ripgrep for rg, isal for igzip), then does what
# --with-duckdb does. --with-duckdb installs @duckdb/node-api from npm into
# bench/.cache/ (needs node and npm) to run the SQL peer.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=5
size=1G
scale=
with_duckdb=0
with_peers=0
while [ $# -gt 0 ]; do
    case "$1" in
    --runs) runs=$2; shift 2 ;;
    --size) size=$2; shift 2 ;;
    --scale) scale=$2; shift 2 ;;
    --with-duckdb) with_duckdb=1; shift ;;
    --with-peers) with_peers=1; with_duckdb=1; shift ;;
    *) echo "usage: bench/run.sh [--runs N] [--size SIZE] [--scale SIZE] [--with-peers] [--with-duckdb]" >&2; exit 2 ;;
    esac
done

TG_BUILD_DIR=build scripts/setup.sh
if [ "$with_peers" = 1 ]; then
    pkgs=""
    command -v rg >/dev/null || pkgs="$pkgs ripgrep"
    command -v igzip >/dev/null || pkgs="$pkgs isal"
    if [ -n "$pkgs" ]; then
        echo "bench: installing$pkgs" >&2
        { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq $pkgs; } \
            >/dev/null 2>&1 || echo "bench: could not install$pkgs; missing peers are skipped" >&2
    fi
fi
tg=build/tracegrep
data=bench/data
mkdir -p "$data" bench/.cache
plain=$data/alb-$size.log
if [ ! -s "$plain" ]; then
    echo "bench: generating $plain" >&2
    build/tg-gen --seed 1 --bytes "$size" --single "$plain" --truth "$data/alb-$size.truth.tsv"
fi
[ -s "$plain.gz" ] || { echo "bench: gzip" >&2; gzip -6 -n -c "$plain" >"$plain.gz"; }
[ -s "$plain.zst" ] || { echo "bench: zstd" >&2; zstd -q -3 -c "$plain" >"$plain.zst"; }
# 16 files of one sixteenth each, for the threads case.
split=$data/split16-$size
if [ ! -d "$split" ]; then
    mkdir -p "$split"
    split -n l/16 -d "$plain" "$split/part-"
fi
# The same text as 2000 .gz files of about 110 KB, as the archive of a quiet
# load balancer looks (a file per node every five minutes): the cost of each
# input, not of a long stream.
gzdir=$data/gz2000-$size
if [ ! -d "$gzdir" ]; then
    echo "bench: 2000 .gz files" >&2
    rm -rf "$gzdir.tmp"
    mkdir -p "$gzdir.tmp"
    split -n l/2000 -d -a 4 "$plain" "$gzdir.tmp/part-"
    find "$gzdir.tmp" -name 'part-*' -print0 | xargs -0 -P "$(nproc)" -n 50 gzip -6 -n
    mv "$gzdir.tmp" "$gzdir"
fi
# gen_out DIR FORMATS WHAT: the generator's folder tree (--out) of the
# ALB lines and the logs FORMATS names, made once.
gen_out() {
    if [ ! -d "$1" ]; then
        echo "bench: $3" >&2
        rm -rf "$1.tmp"
        build/tg-gen --seed 1 --bytes "$size" --formats "$2" --out "$1.tmp" >/dev/null
        mv "$1.tmp" "$1"
    fi
}
# The same ALB lines as an S3 prefix with connection logs on: a file per
# node every five minutes, and beside them the connection logs that
# stats joins to the traces through their conn_trace_id.
conndir=$data/conn-$size
gen_out "$conndir" conn "ALB and connection logs"
mapfile -t connfiles < <(find "$conndir" -type f | sort)
# Application logs: nginx access logs that log the trace header of every
# request, as the services behind the load balancers write them (the
# generator's app/ folder); API Gateway's JSON access logs, with the bare
# id in xrayTraceId (apigw/); and CloudFront's logs of the requests in
# front of them, joined to the nginx lines by X-Amz-Cf-Id (cloudfront/).
# The generator's ALB logs are not used here: removed, they leave 1 GB of
# disk free per GB of --size.
gen_out "$data/apps-$size" nginx,apigw,cloudfront "application, API Gateway and CloudFront logs"
rm -rf "$data/apps-$size/AWSLogs"
appdir=$data/apps-$size/app
jsondir=$data/apps-$size/apigw
cfdir=$data/apps-$size/cloudfront
mapfile -t appfiles < <(find "$appdir" -type f | sort)
mapfile -t jsonfiles < <(find "$jsondir" -type f | sort)
mapfile -t cffiles < <(find "$cfdir" -type f | sort)
# The larger file of --scale: the same generator, another seed. It is kept
# out of datafiles, which are read again before every case; it is read
# again before its own cases only.
scale_plain=
if [ -n "$scale" ]; then
    scale_plain=$data/alb-scale-$scale.log
    if [ ! -s "$scale_plain" ]; then
        echo "bench: generating $scale_plain" >&2
        build/tg-gen --seed 2 --bytes "$scale" --single "$scale_plain.tmp"
        mv "$scale_plain.tmp" "$scale_plain"
    fi
    scale_bytes=$(stat -c %s "$scale_plain")
fi
# Every data file is dropped from the page cache and read back once, before
# the rounds, so that the cache holds it as a first read from disk leaves
# it, whoever wrote it. How a file came into the cache decides how it is
# mapped: written in small pieces (the generator, split), its pages are 4
# KiB folios; read back, this kernel (ext4 on Linux 6.16 and later) caches
# it in large folios, which an mmap maps 2 MiB at a time. The raw literal
# scan of the 1 GB took 0.24 s on the first and 0.13 s on the second, and
# a file evicted in part between runs and read again in part drifted from
# one to the other. The cat before each case re-reads what was evicted
# since, the same way, and the drift goes on: on the Zen 4 machine of
# 2026-12-07 the 1 GB file was left with 0.4 GB of its 1 GB in large folios
# after a 12-minute run, and stats -j1 took 0.46 s in that run against
# 0.36 s in the one before it. So every round starts with the files dropped
# and read back again. Dirty pages cannot be dropped: sync first.
datafiles=("$plain" "$plain.gz" "$plain.zst" "$split"/* "$gzdir"/* "${connfiles[@]}" "${appfiles[@]}"
    "${jsonfiles[@]}" "${cffiles[@]}")
reread_data() {
    sync
    for f in "${datafiles[@]}"; do
        dd if="$f" iflag=nocache count=0 status=none
    done
    cat "${datafiles[@]}" >/dev/null
    if [ -n "$scale_plain" ]; then
        dd if="$scale_plain" iflag=nocache count=0 status=none
        cat "$scale_plain" >/dev/null
    fi
}
reread_data

# The cases are registered first and run in rounds, each round running
# every case once: a slow spell of the shared host then lands on every case
# alike instead of on the few whose runs it covers, which keeps the ratios
# steady. Each case's figures are the medians over the rounds.
names=()
declare -A CMDS
add() { # add NAME CMD...
    names+=("$1")
    CMDS[$1]=$(printf '%q ' "${@:2}")
}
add_sh() { # add_sh NAME 'PIPELINE'
    add "$1" bash -c "$2"
}

add hs_literal build/hs-limit "$plain"
add hs_regex build/hs-limit -r "$plain"
add stats_j1 "$tg" stats -j 1 "$plain"
add stats_j2 "$tg" stats -j 2 "$plain"
# The same text through a pipe, as `zcat … | tracegrep` gives it: read with
# read(2), a pipe-full at a time, while cat writes.
add_sh stdin_j1 "cat '$plain' | '$tg' stats -j 1 -"
add_sh stdin_j2 "cat '$plain' | '$tg' stats -j 2 -"
add timelines_j1 "$tg" timelines -j 1 --format ndjson -o /tmp/tracegrep-bench.ndjson "$plain"
add timelines_j2 "$tg" timelines -j 2 --format ndjson -o /tmp/tracegrep-bench.ndjson "$plain"
# The machine's limit for timelines: writing as many bytes as its output
# holds, from /dev/zero, to a file on the same file system, replaced the way
# tracegrep replaces its output (writer.c): cut to one byte, then written
# over. dd's own O_TRUNC would make ext4 flush the file to disk at close
# (auto_da_alloc), which measured the disk, not the write.
"$tg" timelines -j 1 --format ndjson -o /tmp/tracegrep-bench.ndjson "$plain"
ndjson_bytes=$(stat -c %s /tmp/tracegrep-bench.ndjson)
add_sh write_floor "truncate -s 1 /tmp/tracegrep-bench-floor && dd if=/dev/zero \
of=/tmp/tracegrep-bench-floor bs=1M count=$((ndjson_bytes / 1048576)) conv=notrunc status=none"
find_id=$(awk -F'\t' '$1=="trace" && $7>=2 {print $2; exit}' "$data/alb-$size.truth.tsv")
add find_j1 "$tg" find -j 1 "$find_id" "$plain"
# The incident flow for a report's worth of requests: the traces of 1000
# ids (every 800th trace of the truth), against grepping for their ids.
ids1k=bench/.cache/ids1000-$size.txt
awk -F'\t' '$1=="trace" && ++n % 800 == 0 && k++ < 1000 {print $2}' "$data/alb-$size.truth.tsv" >"$ids1k"
add find1k_j1 "$tg" find -j 1 --ids-from "$ids1k" "$plain"
add stats_gz_j1 "$tg" stats -j 1 "$plain.gz"
# The incident flow over an archive: one trace out of the day's .gz files.
add find_gzdir_j1 "$tg" find -j 1 "$find_id" "$gzdir"
add stats_zst_j1 "$tg" stats -j 1 "$plain.zst"
# One compressed file with two threads: one inflates, the other scans.
add stats_gz_j2 "$tg" stats -j 2 "$plain.gz"
add stats_zst_j2 "$tg" stats -j 2 "$plain.zst"
add split16_j1 "$tg" stats -j 1 "$split"
add split16_j2 "$tg" stats -j 2 "$split"
add gzdir_j1 "$tg" stats -j 1 "$gzdir"
add gzdir_j2 "$tg" stats -j 2 "$gzdir"
add conn_j1 "$tg" stats -j 1 "$conndir"
add conn_j2 "$tg" stats -j 2 "$conndir"
add app_j1 "$tg" stats -j 1 "$appdir"
add json_j1 "$tg" stats -j 1 "$jsondir"
# The nginx lines with the CloudFront records they join to.
add appcf_j1 "$tg" stats -j 1 "$appdir" "$cfdir"
if command -v igzip >/dev/null; then
    add_sh igzip "igzip -d -c '$plain.gz' >/dev/null"
    add_sh igzip_dir "igzip -d -c '$gzdir'/*.gz >/dev/null"
fi
add_sh gzip "gzip -d -c '$plain.gz' >/dev/null"
add_sh zstd "zstd -d -c '$plain.zst' >/dev/null"
if command -v rg >/dev/null; then
    add_sh rg_pipeline "rg -o 'Root=1-[0-9a-f]{8}-[0-9a-f]{24}' '$plain' | sort | uniq -c >/dev/null"
    add_sh rg_app "rg -j 1 --no-filename -o 'Root=1-[0-9a-f]{8}-[0-9a-f]{24}' '$appdir' | sort | uniq -c >/dev/null"
    add_sh rg_json "rg -j 1 --no-filename -o '1-[0-9a-f]{8}-[0-9a-f]{24}' '$jsondir' | sort | uniq -c >/dev/null"
    add_sh rg_ids "rg -j 1 -F -f '$ids1k' '$plain' >/dev/null"
fi
if [ -n "$scale_plain" ]; then
    add scale_stats_j1 "$tg" stats -j 1 "$scale_plain"
    add scale_stats_j2 "$tg" stats -j 2 "$scale_plain"
    # Into /dev/null: its output would not fit the page cache beside it.
    add scale_timelines_j2 "$tg" timelines -j 2 --format ndjson -o /dev/null "$scale_plain"
    add tl_null_j2 "$tg" timelines -j 2 --format ndjson -o /dev/null "$plain"
fi
duck_note="skipped: run with --with-duckdb (installs @duckdb/node-api from npm)"
if [ "$with_duckdb" = 1 ]; then
    if command -v npm >/dev/null && command -v node >/dev/null; then
        if [ ! -d bench/.cache/duckdb/node_modules/@duckdb/node-api ]; then
            (cd bench/.cache && mkdir -p duckdb && cd duckdb && npm init -y >/dev/null &&
                npm install --no-audit --no-fund @duckdb/node-api >/dev/null 2>&1) || true
        fi
        if [ -d bench/.cache/duckdb/node_modules/@duckdb/node-api ]; then
            cp bench/duckdb-groupby.mjs bench/.cache/duckdb/
            add duckdb_j2 node bench/.cache/duckdb/duckdb-groupby.mjs "$PWD/$plain" 2
            duck_note=""
        else
            duck_note="skipped: npm could not install @duckdb/node-api"
        fi
    else
        duck_note="skipped: node/npm not found"
    fi
fi

median() { tr ' ' '\n' | grep . | sort -n | awk '{a[NR]=$1} END {print a[int((NR+1)/2)]}'; }
# Per case: its wall times, CPU times (user + system, all threads) and the
# largest peak RSS (KB) over the rounds.
declare -A TS CS T R C
tf=$(mktemp)
sync
for round in $(seq "$runs"); do
    [ "$round" -gt 1 ] && reread_data
    # Each round runs the cases in its own order (a shuffle seeded by the
    # round, so that a rerun repeats it): a case's time can depend on the
    # one before it, and in a fixed order the same case would pay for that
    # every round. On this VM memory a process frees goes back to the host
    # within seconds, and what allocates next may pay to get it back: on
    # the machines of 2026-12-06, a build whose table took huge pages ran
    # stats -j1 in 0.49-0.57 s right after a process had freed 1.5 GB,
    # against 0.35-0.38 s after another stats, and in the fixed order it
    # always came after DuckDB and rg | sort. (On the Zen 5 machine of
    # 2026-12-07 the table's huge pages showed no such cost: 0.44 s either
    # way.)
    for name in $(printf '%s\n' "${names[@]}" | shuf --random-source=<(yes "$round")); do
        # The page cache is warmed again before every case, untimed: on
        # this VM the data's pages leave it even when idle (the 1 GB file
        # lost 3-4 MB a second with 14 GB free and no reclaim counted by
        # the guest), and a case that reads from disk measures the disk.
        cat "${datafiles[@]}" >/dev/null
        case $name in scale_*) cat "$scale_plain" >/dev/null ;; esac
        eval "/usr/bin/time -o '$tf' -f '%e %M %U %S' ${CMDS[$name]} >/dev/null 2>/dev/null" || true
        read -r e rss u sy <<<"$(tail -1 "$tf")"
        TS[$name]+="$e "
        CS[$name]+="$(awk -v u="$u" -v s="$sy" 'BEGIN { printf "%.2f", u + s }') "
        [ "$rss" -gt "${R[$name]:-0}" ] && R[$name]=$rss
        # A case that wrote 1.5 GB leaves it to be flushed to disk; flushed
        # here, untimed, it cannot slow down the cases after it.
        case $name in timelines_* | write_floor) sync ;; esac
    done
    echo "bench: round $round of $runs done" >&2
done
rm -f "$tf" /tmp/tracegrep-bench-floor
for name in "${names[@]}"; do
    T[$name]=$(median <<<"${TS[$name]}")
    C[$name]=$(median <<<"${CS[$name]}")
    echo "bench: $name ${T[$name]} s (cpu ${C[$name]} s), ${R[$name]} KB" >&2
done

# Output identical whatever -j.
"$tg" timelines -j 1 --format ndjson -o /tmp/tg-j1.ndjson "$split"
"$tg" timelines -j 2 --format ndjson -o /tmp/tg-j2.ndjson "$split"
same=$(cmp -s /tmp/tg-j1.ndjson /tmp/tg-j2.ndjson && echo yes || echo NO)
rm -f /tmp/tg-j1.ndjson /tmp/tg-j2.ndjson /tmp/tracegrep-bench.ndjson
events=$(awk -F'\t' '$1=="events" {print $2}' "$data/alb-$size.truth.tsv")
# What the table costs an event: the peak RSS of stats -j1 over the plain
# file less that of a run over its first 64 KiB (the program, its buffers,
# the Hyperscan database), per event. It counts the mapping's window still
# resident (16 MiB) too, so it overstates the table a little.
head -c 65536 "$plain" >/tmp/tracegrep-bench-tiny.log
/usr/bin/time -o /tmp/tracegrep-bench-rss -f '%M' "$tg" stats -j 1 /tmp/tracegrep-bench-tiny.log \
    >/dev/null 2>&1 || true
base_rss=$(tail -1 /tmp/tracegrep-bench-rss)
rm -f /tmp/tracegrep-bench-tiny.log /tmp/tracegrep-bench-rss
per_event=$(awk -v p="${R[stats_j1]}" -v b="$base_rss" -v e="$events" \
    'BEGIN { if (e > 0) printf "%.0f", (p - b) * 1024 / e; else print "n/a" }')
traces=$(awk -F'\t' '$1=="traces" {print $2}' "$data/alb-$size.truth.tsv")
bytes=$(stat -c %s "$plain")
conn_bytes=$(cat "${connfiles[@]}" | wc -c)
app_bytes=$(cat "${appfiles[@]}" | wc -c)
json_bytes=$(cat "${jsonfiles[@]}" | wc -c)
appcf_bytes=$(cat "${appfiles[@]}" "${cffiles[@]}" | wc -c)

ratio() { awk -v a="$1" -v b="$2" 'BEGIN { if (b > 0) printf "%.2f", a / b; else print "n/a" }'; }
# spread A B: the lowest and highest of the rounds' own ratios of case A's
# time to case B's (both ran in the same round), for how far the shared
# host's noise moved a ratio the table gives as a ratio of medians.
spread() {
    paste <(tr ' ' '\n' <<<"${TS[$1]:-}" | grep .) <(tr ' ' '\n' <<<"${TS[$2]:-}" | grep .) |
        awk '$2 > 0 { r = $1 / $2; if (n++ == 0 || r < lo) lo = r; if (r > hi) hi = r }
             END { if (n) printf " (rounds %.2f-%.2f)", lo, hi }'
}
gbps() { awk -v s="$1" -v b="${2:-$bytes}" 'BEGIN { if (s > 0) printf "%.2f", b / s / 1e9; else print "n/a" }'; }
row() { # row CASE TIME TARGET-TEXT RATIO-TEXT [NAME [BYTES]]
    printf '| %s | %s | %s | %s | %s | %s |\n' "$1" "$2" "${C[${5:-none}]:-}" "$(gbps "$2" "${6:-}")" "$3" "$4"
}
get() { echo "${T[$1]:-}"; }
# ratio_of A B [WORDS]: the ratio of case A's median to case B's ("2.05x", then
# WORDS), or "skipped: no B" when B did not run (a missing peer).
ratio_of() {
    if [ -z "$(get "$2")" ]; then echo "skipped: no $2"; return; fi
    local r
    r=$(ratio "$(get "$1")" "$(get "$2")")
    # A median that rounds to 0.00 s (a toy --size) gives no ratio.
    if [ "$r" = n/a ]; then echo "n/a: $2 took under 0.01 s"; return; fi
    echo "${r}x${3:+ $3}"
}
# vs A B [WORDS]: ratio_of, then the rounds' spread.
vs() { echo "$(ratio_of "$@")$(spread "$1" "$2")"; }
{
    echo "# tracegrep benchmark results"
    echo
    echo "- date: $(date -u +%Y-%m-%dT%H:%MZ)"
    echo "- machine: $(nproc) cores, $(awk '/MemTotal/ {printf "%.0f GiB", $2/1048576}' /proc/meminfo), $(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')"
    echo "- kernel: $(uname -r); tracegrep $("$tg" --version | head -1 | cut -d' ' -f2), $("$tg" --version | tail -n +2 | tr '\n' ',' | sed 's/,$//; s/,/, /g')"
    echo "- data: $size of generated ALB logs ($bytes bytes, $events events, $traces traces), seed 1; page cache warm (every file dropped from it and read back before each round, then read again before each case); median of $runs rounds, each running every case once, in an order of its own"
    [ -z "$scale_plain" ] || echo "- scale: $scale more of generated ALB logs ($scale_bytes bytes), seed 2, its page cache warmed before each of its cases"
    echo "- ratios are of the medians; in parentheses, the lowest and highest of the rounds' own ratios (both cases ran in the same round)"
    echo
    echo "| case | median s | CPU s | GB/s (of the plain size) | target | measured |"
    echo "| --- | --- | --- | --- | --- | --- |"
    row "raw Hyperscan literal scan \`Root=\` (limit)" "$(get hs_literal)" "" "" hs_literal
    row "raw Hyperscan full Root regex" "$(get hs_regex)" "" "" hs_regex
    row "stats -j1, plain" "$(get stats_j1)" "<= 3x literal scan" "$(vs stats_j1 hs_literal)" stats_j1
    if [ -n "$(get rg_pipeline)" ]; then
        row "rg -o … \| sort \| uniq -c" "$(get rg_pipeline)" "stats -j1 >= 5x faster" "$(vs rg_pipeline stats_j1 faster)" rg_pipeline
    else
        row "rg pipeline" "" "" "skipped: rg not found (Debian package ripgrep)"
    fi
    row "stats -j2, plain" "$(get stats_j2)" "" "$(ratio_of stats_j1 stats_j2 "vs -j1")" stats_j2
    row "cat FILE \| stats -j1 -" "$(get stdin_j1)" "" "$(ratio_of stdin_j1 stats_j1 "stats -j1 of the file")" stdin_j1
    row "cat FILE \| stats -j2 -" "$(get stdin_j2)" "" "$(ratio_of stdin_j2 stats_j1 "stats -j1 of the file")" stdin_j2
    row "write as many bytes as the NDJSON to a file with dd (limit)" "$(get write_floor)" "" "$((ndjson_bytes / 1000000)) MB" write_floor
    row "timelines --format ndjson -o FILE -j1" "$(get timelines_j1)" "<= 2x stats" "$(vs timelines_j1 stats_j1); $(ratio_of timelines_j1 write_floor "the write")" timelines_j1
    row "timelines --format ndjson -o FILE -j2" "$(get timelines_j2)" "" "$(ratio_of timelines_j2 stats_j2 "stats -j2"), $(ratio_of timelines_j1 timelines_j2 "faster than -j1")" timelines_j2
    row "find one trace -j1" "$(get find_j1)" "<= 1.5x literal scan" "$(vs find_j1 hs_literal)" find_j1
    row "rg -F -f over the ids of 1000 traces (they only list lines)" "$(get rg_ids)" "" "" rg_ids
    row "find those 1000 traces -j1 (--ids-from)" "$(get find1k_j1)" "" "$(ratio_of rg_ids find1k_j1 "faster than rg -F -f"); $(ratio_of find1k_j1 stats_j1 "stats -j1")" find1k_j1
    if [ -n "$(get igzip)" ]; then
        row "igzip -d -c >/dev/null" "$(get igzip)" "" "" igzip
    else
        row "igzip -d" "" "" "skipped: igzip not found (Debian package isal)"
    fi
    row "gzip -d -c >/dev/null" "$(get gzip)" "" "" gzip
    row "stats -j1, .gz" "$(get stats_gz_j1)" "<= 1.2x igzip -d" "$(vs stats_gz_j1 igzip)" stats_gz_j1
    row "zstd -d -c >/dev/null" "$(get zstd)" "" "" zstd
    row "stats -j1, .zst" "$(get stats_zst_j1)" "<= 1.2x zstd -d" "$(vs stats_zst_j1 zstd)" stats_zst_j1
    row "stats -j2, .gz (one thread inflates, one scans)" "$(get stats_gz_j2)" "" "$(ratio_of stats_gz_j2 igzip "igzip -d")" stats_gz_j2
    row "stats -j2, .zst (one thread decompresses, one scans)" "$(get stats_zst_j2)" "" "$(ratio_of stats_zst_j2 zstd "zstd -d")" stats_zst_j2
    row "stats -j1, 16 files" "$(get split16_j1)" "" "" split16_j1
    row "stats -j2, 16 files" "$(get split16_j2)" ">= 1.8x faster than -j1" "$(vs split16_j1 split16_j2)" split16_j2
    if [ -n "$(get igzip_dir)" ]; then
        row "igzip -d -c over 2000 .gz files of 110 KB" "$(get igzip_dir)" "" "" igzip_dir
    fi
    row "stats -j1, the 2000 .gz files" "$(get gzdir_j1)" "" "$(ratio_of gzdir_j1 igzip_dir "igzip -d"); $(ratio_of gzdir_j1 stats_gz_j1 "the one .gz")" gzdir_j1
    row "find one trace -j1, the 2000 .gz files" "$(get find_gzdir_j1)" "" "$(ratio_of find_gzdir_j1 igzip_dir "igzip -d")" find_gzdir_j1
    row "stats -j2, the 2000 .gz files" "$(get gzdir_j2)" "" "$(ratio_of gzdir_j1 gzdir_j2 "faster than -j1"); $(ratio_of gzdir_j2 igzip_dir "igzip -d")" gzdir_j2
    conn_mb=$(( conn_bytes / 1000000 ))
    row "stats -j1, the ALB lines as files with their connection logs ($conn_mb MB; GB/s of that)" "$(get conn_j1)" "" "$(ratio_of conn_j1 stats_j1 "stats -j1 over the ALB lines alone")" conn_j1 "$conn_bytes"
    row "stats -j2, the same" "$(get conn_j2)" "" "$(ratio_of conn_j1 conn_j2 "faster than -j1")" conn_j2 "$conn_bytes"
    app_mb=$(( app_bytes / 1000000 ))
    if [ -n "$(get rg_app)" ]; then
        row "rg -j1 -o … \| sort \| uniq -c over nginx logs with a trace header on every line ($app_mb MB; GB/s of that)" "$(get rg_app)" "" "" rg_app "$app_bytes"
    fi
    row "stats -j1, those nginx logs" "$(get app_j1)" "" "$(ratio_of rg_app app_j1 "faster than the rg pipeline")" app_j1 "$app_bytes"
    appcf_mb=$(( appcf_bytes / 1000000 ))
    row "stats -j1, those nginx logs and the CloudFront logs they join to ($appcf_mb MB; GB/s of that)" "$(get appcf_j1)" "" "$(ratio_of appcf_j1 app_j1 "the nginx logs alone")" appcf_j1 "$appcf_bytes"
    json_mb=$(( json_bytes / 1000000 ))
    if [ -n "$(get rg_json)" ]; then
        row "rg -j1 -o '1-…' \| sort \| uniq -c over API Gateway JSON access logs ($json_mb MB; GB/s of that)" "$(get rg_json)" "" "" rg_json "$json_bytes"
    fi
    row "stats -j1, those JSON logs" "$(get json_j1)" "" "$(ratio_of rg_json json_j1 "faster than the rg pipeline")" json_j1 "$json_bytes"
    if [ -z "$duck_note" ]; then
        row "DuckDB group-by-Root, 2 threads" "$(get duckdb_j2)" "tracegrep -j2 >= 5x faster" "$(vs duckdb_j2 stats_j2 faster)" duckdb_j2
    else
        row "DuckDB group-by-Root" "" "" "$duck_note"
    fi
    if [ -n "$scale_plain" ]; then
        # per_gb A B: case A's time per byte of the --scale file over case
        # B's per byte of the first.
        per_gb() {
            awk -v a="$(get "$1")" -v ab="$scale_bytes" -v b="$(get "$2")" -v bb="$bytes" -v s="$size" \
                'BEGIN { if (a > 0 && b > 0) printf "%.2fx the time per GB of the %s file", (a / ab) / (b / bb), s; else print "n/a" }'
        }
        row "timelines --format ndjson -o /dev/null -j2, the $size file" "$(get tl_null_j2)" "" "" tl_null_j2
        row "stats -j1, $scale of ALB logs (GB/s of that)" "$(get scale_stats_j1)" "" "$(per_gb scale_stats_j1 stats_j1)" scale_stats_j1 "$scale_bytes"
        row "stats -j2, the $scale file" "$(get scale_stats_j2)" "" "$(per_gb scale_stats_j2 stats_j2)" scale_stats_j2 "$scale_bytes"
        row "timelines --format ndjson -o /dev/null -j2, the $scale file" "$(get scale_timelines_j2)" "" "$(per_gb scale_timelines_j2 tl_null_j2)" scale_timelines_j2 "$scale_bytes"
    fi
    echo
    echo "Peak RSS of stats -j1 over the plain file: $(( ${R[stats_j1]} / 1024 )) MB (target < 200 MB);"
    echo "above a run over its first 64 KiB ($(( base_rss / 1024 )) MB): $per_event bytes per event (target < 64);"
    echo "timelines -j1: $(( ${R[timelines_j1]} / 1024 )) MB."
    echo "Timelines output identical with -j1 and -j2 on 16 files: $same."
    if [ -n "$scale_plain" ]; then
        echo "Over the $scale file: peak RSS of stats -j1 $(( ${R[scale_stats_j1]} / 1024 )) MB, of timelines -j2 $(( ${R[scale_timelines_j2]} / 1024 )) MB (the mapped file counts)."
    fi
} >bench/RESULTS.md
cat bench/RESULTS.md
