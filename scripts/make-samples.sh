#!/bin/sh
# make-samples.sh: regenerates samples/ and tests/fixtures/samples.truth.tsv.
#
# What samples/ holds
#   ALB access logs of a small, made-up service landscape, laid out exactly as
#   ALB writes them to S3:
#     samples/AWSLogs/123456789012/elasticloadbalancing/us-east-1/2025/11/{20,21}/
#       123456789012_elasticloadbalancing_us-east-1_app.<lb>.<lb-id>_<YYYYMMDDTHHMMZ>_<node-ip>_<rnd>.log.gz
#   Three load balancers (shop-public, internet-facing; orders-internal and
#   payments-internal), two nodes each, one file per node and 5-minute
#   interval, from 2025-11-20T23:30Z to just after midnight, so the files span
#   two day folders. 1500 traces of 1 to 3 hops (a few with a retried hop),
#   about 3% failing with a 5xx and 2% slow, plus health checks and other lines
#   without a trace header (about 5%), malformed headers (about 1%, every
#   no-root / bad-root / zero-root kind) and decoys (about 1%: a Root in the user
#   agent or URL, field 18 "-"). Lines mix the 36, 33, 30, 29, 20 and 18-field
#   generations; some user agents carry \x22, \x5C and \xHH escapes.
#
#   Every ALB access-log file is gzip (gzip -n -9: no name, no time), except
#   three picked by their position in the sorted list of access-log files:
#   the first is a multi-member gzip (its two halves, split at a line
#   boundary, gzipped and concatenated), the middle one is zstd (.log.zst)
#   and the last one stays plain (.log).
#
#   Beside them, the other log kinds of the same incident (tg-gen --formats
#   all; bench/tg-gen-formats.c says what each holds):
#     samples/AWSLogs/.../conn_log_123456789012_elasticloadbalancing_us-east-1_app.<lb>.<lb-id>_<YYYYMMDDTHHMMZ>_<node-ip>_<rnd>.log.gz
#                                     ALB connection logs, same folders
#     samples/cloudfront/EDFDVBD6EXAMPLE.YYYY-MM-DD-HH.<rnd>.log.{zst,gz}
#                                     CloudFront, one file per hour
#     samples/app/<service>/access.log[.gz]
#                                     the targets' nginx logs (web, orders, payments)
#     samples/apigw/<api-id>.log.gz   API Gateway access logs (JSON lines)
#     samples/lambda/<function>/YYYY-MM-DD.log.gz
#                                     Lambda logs as CloudWatch exports them
#   They are gzip too, except the first CloudFront file (zstd) and the first
#   nginx log (plain). samples/ holds log files only: tracegrep reads every
#   file it is pointed at.
#
# How it was made (tg-gen is bench/tg-gen.c and bench/tg-gen-formats.c,
# built here with plain gcc):
#   tg-gen --seed 1 --lbs 3 --traces 1500 --rate 0.5 --start 1763681400 \
#          --formats all --out <tmp> --truth tests/fixtures/samples.truth.tsv
#
#   The ALB access logs are the same bytes as without --formats (tg-gen
#   draws the other kinds from a stream of their own), so the trace ids of
#   earlier samples are still there.
#
#   tests/fixtures/samples.truth.tsv is that run's ground truth ("# tg-gen
#   truth v1": line, header, event and malformed counts of the ALB access
#   logs, then "format", "joined.*" and "cloudfront.unmatched" keys for the
#   other kinds, one "trace" row per trace, and one "tracefmt" row per
#   trace with its events by log kind), which the end-to-end tests compare
#   tracegrep's output against.
#
# The script is idempotent and deterministic: run twice on the same machine,
#   find samples -type f | sort | xargs sha256sum
# prints the same. (gzip and zstd output can differ between their versions.)
set -eu

SEED=1
LBS=3
TRACES=1500
RATE=0.5
START=1763681400 # 2025-11-20T23:30:00Z
FORMATS=all
MAX_BYTES=2097152 # samples/ is committed: keep it small

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
export LC_ALL=C

for tool in gcc gzip zstd; do
    command -v "$tool" >/dev/null 2>&1 || { echo "make-samples: $tool not found" >&2; exit 1; }
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/tg-samples.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM

gcc -std=c11 -O2 -Wall -Wextra -Werror -o "$tmp/tg-gen" bench/tg-gen.c bench/tg-gen-formats.c

"$tmp/tg-gen" --seed "$SEED" --lbs "$LBS" --traces "$TRACES" --rate "$RATE" \
    --start "$START" --formats "$FORMATS" --out "$tmp/samples" \
    --truth "$tmp/samples.truth.tsv"

# The ALB access logs: the connection logs share their folders, so they are
# left out by name, and the three special files are the ones they always were.
find "$tmp/samples/AWSLogs" -type f -name '*.log' ! -name 'conn_log_*' | sort >"$tmp/files"
n=$(wc -l <"$tmp/files")
if [ "$n" -lt 3 ]; then
    echo "make-samples: only $n log files; need at least 3" >&2
    exit 1
fi
multi=$(sed -n '1p' "$tmp/files")
zst=$(sed -n "$((n / 2 + 1))p" "$tmp/files")
plain=$(sed -n "${n}p" "$tmp/files")

while IFS= read -r f; do
    if [ "$f" = "$plain" ]; then
        continue
    elif [ "$f" = "$zst" ]; then
        zstd -q -19 --no-progress --rm -o "$f.zst" "$f"
    elif [ "$f" = "$multi" ]; then
        lines=$(wc -l <"$f")
        if [ "$lines" -lt 2 ]; then
            echo "make-samples: $f has fewer than 2 lines; cannot split it" >&2
            exit 1
        fi
        half=$((lines / 2))
        head -n "$half" "$f" | gzip -n -9 >"$f.gz"
        tail -n "+$((half + 1))" "$f" | gzip -n -9 >>"$f.gz"
        rm -f "$f"
    else
        gzip -n -9 "$f"
    fi
done <"$tmp/files"

# The other kinds: gzip, but the first CloudFront file is zstd and the first
# nginx log stays plain, so that each kind is read through more than one codec.
# (The plain access-log file is the only other *.log left.)
find "$tmp/samples" -type f -name '*.log' | sort | grep -v -x -F "$plain" >"$tmp/others"
cf_zst=$(grep '/cloudfront/' "$tmp/others" | sed -n '1p')
app_plain=$(grep '/app/' "$tmp/others" | sed -n '1p')
if [ -z "$cf_zst" ] || [ -z "$app_plain" ]; then
    echo "make-samples: no CloudFront or nginx log was written" >&2
    exit 1
fi
m=$(wc -l <"$tmp/others")
while IFS= read -r f; do
    if [ "$f" = "$app_plain" ]; then
        continue
    elif [ "$f" = "$cf_zst" ]; then
        zstd -q -19 --no-progress --rm -o "$f.zst" "$f"
    else
        gzip -n -9 "$f"
    fi
done <"$tmp/others"

total=$(find "$tmp/samples" -type f -exec cat {} + | wc -c)
if [ "$total" -gt "$MAX_BYTES" ]; then
    echo "make-samples: samples would take $total bytes, more than $MAX_BYTES" >&2
    exit 1
fi

# Swap the results in only once everything above succeeded.
rm -rf samples
mv "$tmp/samples" samples
mkdir -p tests/fixtures
mv "$tmp/samples.truth.tsv" tests/fixtures/samples.truth.tsv

echo "make-samples: $n access-log files and $m others, $total bytes in samples/," \
    "truth in tests/fixtures/samples.truth.tsv"
