#!/usr/bin/env bash
# Web tool benchmark: throughput, latency and memory of searches at N profiles (default
# 100,000), on loopback, with wrk.
#
#   bench/web.sh [N]        (env: DURATION=20s CONNECTIONS=16 WEB_PORT=8187 BENCH_DIR=target/bench
#                             SEARCH_CACHE=1024 MIX=cycle|popular)
#
# Two runs give BENCHMARKS.md's figures:
#   SEARCH_CACHE=0 bench/web.sh      every search computed: the cost of a search
#   MIX=popular bench/web.sh         the web tool as deployed (search cache on), under a
#                                    crowd's mix of thousands of searches (bench/web-popular.lua)
#
# 1. Builds the release binaries; makes (or reuses) `indexer synth --profiles N` and imports
#    it into $BENCH_DIR/web-data-N (re-imported whenever exchange's sources changed).
# 2. Starts `webtool --data DIR` on 127.0.0.1 and waits for /healthz.
# 3. Warms up (5 s of the mix on each endpoint), then reads the server's RSS.
# 4. One connection at a time (wrk -c1), 10 s per endpoint: the client's latency and the
#    handler's own time, which the server reports in its Server-Timing header.
# 5. Throughput: wrk -t2 -cCONNECTIONS for DURATION against the HTML page and the JSON API,
#    without Accept-Encoding (what wrk sends by default: no compression), then the HTML page
#    again as browsers ask for it (Accept-Encoding: gzip, deflate, br).
# 6. Reads the peak RSS (VmHWM) and prints a summary.
#
# The requests cycle through bench/web-queries.lua (about 90 different searches: words in
# several languages, typos, prefixes, filters, facets, page 2). wrk runs on the same two
# cores as the server, which is the honest worst case: the server gets less than 2 cores.
set -euo pipefail
cd "$(dirname "$0")/.."
n=${1:-100000}
duration=${DURATION:-20s}
connections=${CONNECTIONS:-16}
port=${WEB_PORT:-8187}
work="${BENCH_DIR:-target/bench}"
bin="${CARGO_TARGET_DIR:-target}/release"
mkdir -p "$work"
command -v wrk >/dev/null || { echo "wrk is needed (apt-get install wrk)" >&2; exit 1; }
cargo build --release -p indexer -p webtool --quiet

export_file="$work/synth-$n.xml.gz"
[ -f "$export_file" ] || "$bin/indexer" synth --profiles "$n" --out "$export_file" 2>/dev/null
data="$work/web-data-$n"
stamp=$( (sha256sum "$export_file" | cut -d' ' -f1
          find exchange/src exchange/data schema.sql -type f | sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$data/.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "importing $export_file (the export or exchange's sources changed) ..." >&2
    rm -rf "$data"
    "$bin/indexer" import --dump "$export_file" --data "$data" 2>/dev/null
    echo "$stamp" > "$data/.stamp"
fi

log="$work/web-$n.log"
mix=${MIX:-cycle}
script=bench/web-queries.lua
if [ "$mix" = popular ]; then
    script=bench/web-popular.lua
    export CAPX_PATHS="$work/popular-paths.txt"
    python3 - "$CAPX_PATHS" <<'PY'
import json, random, re, sys, urllib.parse
taxonomy = json.load(open("exchange/data/taxonomy.json"))["skills"]
skills = [s["id"] for s in taxonomy]
mix = open("bench/web-queries.lua").read().split("local searches = {", 1)[1].split("\n}", 1)[0]
cycled = re.findall(r'"([^"\n]+=[^"\n]*)"', mix)
variants = [k + l + o for k in ["", "&kind=offers", "&kind=wants"]
            for l in ["", "&lang=en", "&lang=pt", "&lang=es", "&lang=fr", "&lang=de", "&lang=ar"]
            for o in ["", "&offset=20"]]
paths = [f"skill={s}{v}" for s in skills for v in variants]
paths += [f"q={urllib.parse.quote(label)}" for s in taxonomy for label in s["labels"].values()]
random.Random(20261126).shuffle(paths)
with open(sys.argv[1], "w") as out:
    out.write("\n".join(cycled + paths) + "\n")
PY
fi
RUST_LOG=warn "$bin/webtool" --data "$data" --bind 127.0.0.1 --port "$port" \
    --search-cache "${SEARCH_CACHE:-1024}" 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
start=$(date +%s.%N)
for _ in $(seq 600); do
    if curl -fs "$base/healthz" 2>/dev/null | grep -q '"status":"ok"'; then break; fi
    kill -0 "$server" 2>/dev/null || { echo "webtool exited; see $log" >&2; exit 1; }
    sleep 0.2
done
curl -fs "$base/healthz" | grep -q '"status":"ok"' || { echo "webtool never became ready" >&2; exit 1; }
ready=$(python3 -c "import sys; print(f'{float(sys.argv[2]) - float(sys.argv[1]):.1f}')" "$start" "$(date +%s.%N)")
profiles=$(curl -fs "$base/healthz" | python3 -c "import json,sys; print(json.load(sys.stdin)['profiles'])")

kb() { awk -v k="$1:" '$1 == k { print int($2 / 1024) }' "/proc/$server/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
rss_loaded=$(kb VmRSS)

wrk_run() { # wrk_run THREADS CONNECTIONS DURATION PATH [wrk options...]
    local t=$1 c=$2 d=$3 p=$4; shift 4
    wrk -t"$t" -c"$c" -d"$d" "$@" -s "$script" "$base" -- "$p" 2>&1
}
field() { sed -n "s/.*$1=\([0-9.]*\).*/\1/p" | head -1; }

echo "warming up ..." >&2
wrk_run 2 8 5s /search >/dev/null
wrk_run 2 8 5s /api/v1/search >/dev/null
rss_warm=$(kb VmRSS)
hwm_warm=$(kb VmHWM)

echo "one connection (latency, server timing) ..." >&2
html1=$(CAPX_SERVER_TIMING=1 wrk_run 1 1 10s /search)
json1=$(CAPX_SERVER_TIMING=1 wrk_run 1 1 10s /api/v1/search)

hz=$(getconf CLK_TCK)
throughput() { # throughput PATH [wrk options...]: the RESULT line and the server's CPU use
    local before after out
    before=$(cpu_ticks)
    out=$(wrk_run 2 "$connections" "$duration" "$@")
    after=$(cpu_ticks)
    local secs; secs=$(echo "$out" | grep '^RESULT' | field seconds)
    echo "$out" | grep '^RESULT'
    local requests; requests=$(echo "$out" | grep '^RESULT' | field requests)
    python3 -c "import sys; b, a, hz, s, n = int(sys.argv[1]), int(sys.argv[2]), int(sys.argv[3]), float(sys.argv[4]), int(sys.argv[5]); print(f'CPU server_cores={(a - b) / hz / s:.2f} cpu_ms={(a - b) / hz * 1000 / max(n, 1):.2f}')" \
        "$before" "$after" "$hz" "$secs" "$requests"
}
echo "throughput, HTML page ($duration, $connections connections) ..." >&2
html=$(throughput /search)
echo "throughput, JSON API ..." >&2
json=$(throughput /api/v1/search)
echo "throughput, HTML page with compression ..." >&2
htmlz=$(throughput /search -H "Accept-Encoding: gzip, deflate, br")
rss_end=$(kb VmRSS)
hwm_end=$(kb VmHWM)
threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$server/status")

row() { # row LABEL OUTPUT
    local out=$2
    local r; r=$(echo "$out" | grep '^RESULT')
    printf "| %s | %s | %s ms | %s ms | %s ms | %s | %s ms | %s |\n" "$1" \
        "$(echo "$r" | field rps)" "$(echo "$r" | field p50_ms)" "$(echo "$r" | field p90_ms)" \
        "$(echo "$r" | field p99_ms)" "$(echo "$out" | grep '^CPU' | field server_cores)" \
        "$(echo "$out" | grep '^CPU' | field cpu_ms)" \
        "$(echo "$r" | field non2xx)/$(echo "$r" | field socket_errors)"
}
server_row() { # server_row LABEL OUTPUT
    local r s
    r=$(echo "$2" | grep '^RESULT'); s=$(echo "$2" | grep '^SERVER' || true)
    printf "| %s | %s | %s ms | %s ms | %s ms | %s ms | %s ms |\n" "$1" \
        "$(echo "$r" | field requests)" "$(echo "$s" | field p50_ms)" "$(echo "$s" | field p90_ms)" \
        "$(echo "$s" | field p99_ms)" "$(echo "$r" | field p50_ms)" "$(echo "$r" | field p99_ms)"
}

echo
echo "Web tool at $n synthetic profiles ($profiles published); $(nproc) cores; ready in ${ready} s; server threads: $threads"
echo
echo "Throughput: wrk -t2 -c$connections -d$duration -s $script (client and server share the cores); search cache: ${SEARCH_CACHE:-1024} entries"
echo
echo "| endpoint | requests/s | median | 90th pct | 99th pct | server CPU (cores) | server CPU per request | non-2xx/socket errors |"
echo "|---|---:|---:|---:|---:|---:|---:|---:|"
row "/search (HTML)" "$html"
row "/api/v1/search (JSON)" "$json"
row "/search, gzip/br accepted" "$htmlz"
echo
echo "One connection (wrk -t1 -c1 -d10s): handler time from Server-Timing, and the client's latency"
echo
echo "| endpoint | requests | server median | server 90th | server 99th | client median | client 99th |"
echo "|---|---:|---:|---:|---:|---:|---:|"
server_row "/search (HTML)" "$html1"
server_row "/api/v1/search (JSON)" "$json1"
echo
echo "Load average at the end (other work on the machine skews every figure): $(cut -d' ' -f1-3 /proc/loadavg)"
echo "Search cache: $(curl -fs "$base/healthz" | python3 -c "import json,sys; c = json.load(sys.stdin)['search_cache']; n = c['hits'] + c['misses']; print(f\"{c['entries']} entries, {c['hits']} hits of {n} searches ({100 * c['hits'] / max(n, 1):.1f} %)\")")"
echo "Memory: RSS ${rss_loaded} MB once loaded, ${rss_warm} MB after warm-up (peak ${hwm_warm} MB), ${rss_end} MB after the load; peak (VmHWM) ${hwm_end} MB"
