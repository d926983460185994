#!/usr/bin/env bash
# Web tool benchmark: throughput, latency and memory at N profiles (default 100,000), on
# loopback, with wrk (Debian's package; installed here when missing and run as root).
#
#   bench/web.sh [N]   env: DURATION=20s (each throughput run) ONE_DURATION=10s (each
#                      one-connection run) WARMUP=5s (per endpoint) CONNECTIONS=16
#                      WEB_PORT=8187 SEARCH_CACHE=1024 MIX=cycle|popular BENCH_DIR RESULTS_DIR
#
# Two runs give BENCHMARKS.md's figures:
#   SEARCH_CACHE=0 bench/web.sh      every search computed: the cost of a search
#   MIX=popular bench/web.sh         the web tool as deployed (search cache on), under a
#                                    crowd's mix of thousands of searches (bench/web-popular.lua)
#
# 1. Builds the release binaries; makes (or reuses) `indexer synth --profiles N` and imports
#    it into $BENCH_DIR/web-data-N (re-imported whenever exchange's sources changed).
# 2. Starts `webtool --data DIR` on 127.0.0.1, waits for /healthz, reads the RSS.
# 3. Warms up (WARMUP on each endpoint), then reads the RSS again.
# 4. One connection at a time (wrk -c1), ONE_DURATION per endpoint: the client's latency
#    and, for the searches, the handler's own time, which the server reports in its
#    Server-Timing header.
# 5. Throughput: wrk -t2 -cCONNECTIONS -dDURATION against the HTML search page and the JSON
#    API, without Accept-Encoding (what wrk sends by default: no compression), the HTML page
#    again as browsers ask for it (Accept-Encoding: gzip, deflate, br), and the profile page.
# 6. Reads the RSS and its peak (VmHWM), prints Markdown tables and appends one JSON line
#    (every figure of the run) to $RESULTS_DIR/web.jsonl.
#
# Endpoints: /search and /api/v1/search take the searches of bench/web-queries.lua (about
# 90 different searches, cycled: words in several languages, typos, prefixes, filters,
# facets, page 2) or, with MIX=popular, bench/web-popular.lua; /profile/<user> takes every
# user of the snapshot, drawn at random (bench/web-popular.lua with CAPX_DRAW=uniform and
# the user names in $BENCH_DIR/profile-paths-N.txt). Each wrk run is bounded by its
# duration (-d) and its connections (-c). wrk runs on the same cores as the server, which
# is the honest worst case: the server gets less than all of them.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
n=${1:-100000}
duration=${DURATION:-20s}
one_duration=${ONE_DURATION:-10s}
warmup=${WARMUP:-5s}
connections=${CONNECTIONS:-16}
port=${WEB_PORT:-8187}
cache=${SEARCH_CACHE:-1024}
mix=${MIX:-cycle}
need_command wrk wrk
cargo build --release -p indexer -p webtool --quiet

export_file=$(synth_export "$n")
data="$work/web-data-$n"
stamp=$( (sha256sum "$export_file" | cut -d' ' -f1
          find exchange/src exchange/data schema.sql -type f | sort | xargs cat) | sha256sum | cut -d' ' -f1)
if [ "$(cat "$data/.stamp" 2>/dev/null)" != "$stamp" ]; then
    echo "importing $export_file (the export or exchange's sources changed) ..." >&2
    rm -rf "$data"
    "$bin/indexer" import --dump "$export_file" --data "$data" 2>/dev/null
    echo "$stamp" > "$data/.stamp"
fi

search_script=bench/web-queries.lua
search_paths=""
if [ "$mix" = popular ]; then
    search_script=bench/web-popular.lua
    search_paths="$work/popular-paths.txt"
    python3 - "$search_paths" <<'PY'
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
# The profile pages: every user of the snapshot, URL-encoded, shuffled with a fixed seed.
profile_paths="$work/profile-paths-$n.txt"
python3 - "$data" "$profile_paths" <<'PY'
import pathlib, random, sqlite3, sys, urllib.parse
data = pathlib.Path(sys.argv[1])
generation = data / "generations" / (data / "current").read_text().strip()
db = sqlite3.connect(f"file:{generation / 'exchange.sqlite'}?mode=ro&immutable=1", uri=True)
users = sorted(user for (user,) in db.execute("SELECT user FROM profiles"))
random.Random(20261126).shuffle(users)
with open(sys.argv[2], "w") as out:
    out.writelines(urllib.parse.quote(user, safe="") + "\n" for user in users)
PY

log="$work/web-$n.log"
runs="$work/web-$n-$mix-cache$cache"
rm -rf "$runs"
mkdir -p "$runs"
RUST_LOG=warn "$bin/webtool" --data "$data" --bind 127.0.0.1 --port "$port" \
    --search-cache "$cache" 2>"$log" &
server=$!
trap 'kill "$server" 2>/dev/null || true; wait "$server" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
start=$(now)
for _ in $(seq 600); do
    if curl -fs "$base/healthz" 2>/dev/null | grep -q '"status":"ok"'; then break; fi
    kill -0 "$server" 2>/dev/null || { echo "webtool exited; see $log" >&2; exit 1; }
    sleep 0.2
done
curl -fs "$base/healthz" | grep -q '"status":"ok"' || { echo "webtool never became ready" >&2; exit 1; }
ready=$(since "$start")

kb() { awk -v k="$1:" '$1 == k { print $2 }' "/proc/$server/status"; }
cpu_ticks() { awk '{ print $14 + $15 }' "/proc/$server/stat"; }
rss_loaded=$(kb VmRSS)

# load ENDPOINT THREADS CONNECTIONS DURATION [wrk options...]: wrk against ENDPOINT
# (/search, /api/v1/search or /profile/) with its script; prints wrk's output.
load() {
    local endpoint=$1 t=$2 c=$3 d=$4; shift 4
    local script=$search_script paths=$search_paths draw=zipf
    if [ "$endpoint" = /profile/ ]; then
        script=bench/web-popular.lua paths=$profile_paths draw=uniform
    fi
    CAPX_PATHS=$paths CAPX_DRAW=$draw \
        wrk -t"$t" -c"$c" -d"$d" "$@" -s "$script" "$base" -- "$endpoint" 2>&1
}

echo "warming up ..." >&2
for endpoint in /search /api/v1/search /profile/; do
    load "$endpoint" 2 8 "$warmup" >/dev/null
done
rss_warm=$(kb VmRSS)
hwm_warm=$(kb VmHWM)

echo "one connection (latency, server timing) ..." >&2
CAPX_SERVER_TIMING=1 load /search 1 1 "$one_duration" > "$runs/one-search.txt"
CAPX_SERVER_TIMING=1 load /api/v1/search 1 1 "$one_duration" > "$runs/one-api.txt"
load /profile/ 1 1 "$one_duration" > "$runs/one-profile.txt"

hz=$(getconf CLK_TCK)
throughput() { # throughput NAME ENDPOINT [wrk options...]: wrk's output and the server's CPU time
    local name=$1; shift
    local before after
    before=$(cpu_ticks)
    load "$1" 2 "$connections" "$duration" "${@:2}" > "$runs/$name.txt"
    after=$(cpu_ticks)
    echo "CPU ticks=$((after - before)) hz=$hz" >> "$runs/$name.txt"
}
echo "throughput, HTML page ($duration, $connections connections) ..." >&2
throughput search /search
echo "throughput, JSON API ..." >&2
throughput api /api/v1/search
echo "throughput, HTML page with compression ..." >&2
throughput search-compressed /search -H "Accept-Encoding: gzip, deflate, br"
echo "throughput, profile page ..." >&2
throughput profile /profile/
rss_end=$(kb VmRSS)
hwm_end=$(kb VmHWM)
threads=$(awk '$1 == "Threads:" { print $2 }' "/proc/$server/status")
curl -fs "$base/healthz" > "$runs/healthz.json"

python3 - "$runs" "$results/web.jsonl" <<PY
import json, os, re, sys
runs, out = sys.argv[1], sys.argv[2]
def parse(name):
    """The RESULT, SERVER and CPU lines of a run as {"RESULT": {key: number}, ...}."""
    found = {}
    for line in open(os.path.join(runs, name + ".txt")):
        kind, _, rest = line.partition(" ")
        if kind in ("RESULT", "SERVER", "CPU"):
            found[kind] = {k: float(v) for k, v in re.findall(r"(\w+)=([0-9.]+)", rest)}
    if "RESULT" not in found:
        sys.exit(f"wrk gave no result for {name}: see {runs}/{name}.txt")
    return found
def load_row(name):
    r = parse(name)
    row = {k: r["RESULT"][k] for k in ("requests", "seconds", "rps", "p50_ms", "p90_ms", "p99_ms", "max_ms", "non2xx", "socket_errors")}
    cpu = r["CPU"]["ticks"] / r["CPU"]["hz"]
    row["server_cores"] = round(cpu / row["seconds"], 2)
    row["server_cpu_ms_per_request"] = round(cpu * 1000 / max(row["requests"], 1), 2)
    return row
def one_row(name):
    r = parse(name)
    row = {k: r["RESULT"][k] for k in ("requests", "p50_ms", "p90_ms", "p99_ms")}
    if "SERVER" in r:
        row.update({"server_" + k: r["SERVER"][k] for k in ("p50_ms", "p90_ms", "p99_ms")})
    return row
labels = {"search": "/search (HTML)", "api": "/api/v1/search (JSON)",
          "search-compressed": "/search, gzip/br accepted", "profile": "/profile/<user> (HTML)"}
health = json.load(open(os.path.join(runs, "healthz.json")))
c = health["search_cache"]
mb = lambda kb: round(int(kb) / 1024)
run = {
    "profiles": $n, "published": health["profiles"], "mix": "$mix", "search_cache": $cache,
    "connections": $connections, "duration": "$duration", "one_duration": "$one_duration",
    "ready_seconds": float("$ready"), "server_threads": int("$threads"),
    "throughput": {label: load_row(name) for name, label in labels.items()},
    "one_connection": {labels[name]: one_row("one-" + name) for name in ("search", "api", "profile")},
    "memory_mb": {"loaded": mb("$rss_loaded"), "after_warmup": mb("$rss_warm"),
                  "peak_after_warmup": mb("$hwm_warm"), "after_load": mb("$rss_end"), "peak": mb("$hwm_end")},
    "cache": {"entries": c["entries"], "hits": c["hits"], "misses": c["misses"]},
    "load_average": open("/proc/loadavg").read().split()[:3],
}
with open(out, "a") as f:
    f.write(json.dumps(run) + "\n")
ms = lambda v: f"{v:.2f} ms" if v is not None else "–"
print(f"\nWeb tool at {run['profiles']} synthetic profiles ({run['published']} published); {os.cpu_count()} cores; "
      f"ready in {run['ready_seconds']} s; server threads: {run['server_threads']}\n")
print(f"Throughput: wrk -t2 -c$connections -d$duration (client and server share the cores); mix: $mix; "
      f"search cache: $cache entries\n")
print("| endpoint | requests/s | median | 90th pct | 99th pct | server CPU (cores) | server CPU per request | non-2xx/socket errors |")
print("|---|---:|---:|---:|---:|---:|---:|---:|")
for label, r in run["throughput"].items():
    print(f"| {label} | {r['rps']:,.0f} | {ms(r['p50_ms'])} | {ms(r['p90_ms'])} | {ms(r['p99_ms'])} | "
          f"{r['server_cores']:.2f} | {ms(r['server_cpu_ms_per_request'])} | {r['non2xx']:.0f}/{r['socket_errors']:.0f} |")
print("\nOne connection (wrk -t1 -c1 -d$one_duration): handler time from Server-Timing (searches only), and the client's latency\n")
print("| endpoint | requests | server median | server 90th | server 99th | client median | client 99th |")
print("|---|---:|---:|---:|---:|---:|---:|")
for label, r in run["one_connection"].items():
    print(f"| {label} | {r['requests']:.0f} | {ms(r.get('server_p50_ms'))} | {ms(r.get('server_p90_ms'))} | "
          f"{ms(r.get('server_p99_ms'))} | {ms(r['p50_ms'])} | {ms(r['p99_ms'])} |")
hits = c["hits"] + c["misses"]
m = run["memory_mb"]
print(f"\nLoad average at the end (other work on the machine skews every figure): {' '.join(run['load_average'])}")
print(f"Search cache: {c['entries']} entries, {c['hits']} hits of {hits} searches ({100 * c['hits'] / max(hits, 1):.1f} %)")
print(f"Memory: RSS {m['loaded']} MB once loaded, {m['after_warmup']} MB after warm-up (peak {m['peak_after_warmup']} MB), "
      f"{m['after_load']} MB after the load; peak (VmHWM) {m['peak']} MB")
PY
