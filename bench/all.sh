#!/usr/bin/env bash
# Every figure of BENCHMARKS.md, from nothing, in one command: release builds, synthetic
# exports (`indexer synth`), the local MediaWiki of tests/mediawiki for the crawl.
#
#   bench/all.sh            the full suite (sizes 1,000, 10,000 and 100,000; the crawl at
#                           1,000 and 10,000): about an hour on 2 cores
#   QUICK=1 bench/all.sh    a smoke run of every part: sizes 300 and 1000, short durations
#
# Parts, in order (PARTS="machine import search match stats quality web crawl growth"):
#   machine  date, nproc, CPU model, memory, git commit, load average   -> machine.json
#   import   bench/import.sh SIZES: time, peak RSS, snapshot size        -> import.tsv
#   search   exchange/examples/search_bench.rs: median, 99th percentile -> search.tsv
#   match    exchange/examples/match_bench.rs at each size              -> match.tsv
#   stats    exchange/tests/stats.rs (stats::compute on 100,000)        -> stats.tsv
#   quality  exchange/tests/search_eval.rs (labelled queries)           -> quality.tsv
#   web      bench/web.sh at each size with every search computed (SEARCH_CACHE=0), then
#            as deployed (MIX=popular) at the largest: search page, API, profile page;
#            throughput, latency, memory before and after                -> web.jsonl
#   crawl    bench/crawl.sh CRAWL_SIZES, with the naive crawler          -> crawl.tsv
#   growth   bench/growth.py: each cost against the number of profiles  -> growth.md, SVG
# Results go to $RESULTS_DIR (default target/bench/results), one file per part; the
# Markdown tables are printed and kept in $RESULTS_DIR/all.md.
#
# Environment (defaults for the full run; QUICK=1 changes the ones marked *):
#   SIZES="1000 10000 100000"*  CRAWL_SIZES="1000 10000"*  SEARCHES=1000*  MATCH_QUERIES=1000*
#   DURATION=20s* ONE_DURATION=10s* WARMUP=5s* CONNECTIONS=16 WEB_PORT=8187   (bench/web.sh)
#   EDITS=100* MW_PORT=8183                                                   (bench/crawl.sh)
#   BENCH_DIR=target/bench  RESULTS_DIR=$BENCH_DIR/results
#   GROWTH_SVG=bench/growth.svg* (QUICK: $RESULTS_DIR/growth.svg, so a smoke run leaves the
#   committed plot alone)
#
# Needs: Rust (cargo), Python 3, curl, and as root for what is missing: wrk and time
# (Debian's packages, installed by web.sh and import.sh), MediaWiki 1.39 with PHP
# (tests/mediawiki/install-packages.sh, run by crawl.sh).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"

if [ "${QUICK:-0}" = 1 ]; then
    : "${SIZES:=300 1000}" "${CRAWL_SIZES:=300 1000}" "${SEARCHES:=200}" "${MATCH_QUERIES:=200}"
    : "${DURATION:=3s}" "${ONE_DURATION:=2s}" "${WARMUP:=1s}" "${EDITS:=20}"
    : "${GROWTH_SVG:=$results/growth.svg}"
fi
read -ra sizes <<< "${SIZES:-1000 10000 100000}"
read -ra crawl_sizes <<< "${CRAWL_SIZES:-1000 10000}"
read -ra parts <<< "${PARTS:-machine import search match stats quality web crawl growth}"
export DURATION ONE_DURATION WARMUP EDITS BENCH_DIR="$work" RESULTS_DIR="$results"
largest=${sizes[-1]}

# Everything printed on stdout is kept in all.md as well.
exec > >(tee "$results/all.md")
say() { echo "[all] $*" >&2; }

# kv_tsv: the `RESULT key=value ...` lines on stdin as TSV, with a header from the first.
kv_tsv() {
    python3 -c '
import re, sys
rows = [dict(re.findall(r"(\w+)=(\S+)", line)) for line in sys.stdin if line.startswith("RESULT ")]
if rows:
    print("\t".join(rows[0]))
    for row in rows:
        print("\t".join(row.get(k, "") for k in rows[0]))'
}

# md_table TSV COLUMN=HEADING[=UNIT]...: a Markdown table of those columns of a TSV file.
md_table() {
    python3 - "$@" <<'PY'
import csv, sys
rows = list(csv.DictReader(open(sys.argv[1]), delimiter="\t"))
cols = [c.split("=") + [""] for c in sys.argv[2:]]
print("| " + " | ".join(c[1] for c in cols) + " |")
print("|" + "---:|" * len(cols))
for row in rows:
    print("| " + " | ".join(f"{row[c[0]]} {c[2]}".strip() for c in cols) + " |")
PY
}

part_machine() {
    local commit dirty
    commit=$(git rev-parse HEAD)
    dirty=$(git status --porcelain | wc -l)
    python3 - "$results/machine.json" "$commit" "$dirty" <<'PY'
import json, os, platform, subprocess, sys, time
cpu = next((l.split(":", 1)[1].strip() for l in open("/proc/cpuinfo") if l.startswith("model name")), "?")
mem_kb = next(int(l.split()[1]) for l in open("/proc/meminfo") if l.startswith("MemTotal"))
machine = {
    "date": time.strftime("%Y-%m-%dT%H:%M:%S%z"),
    "nproc": int(subprocess.check_output(["nproc"]).strip()),
    "cpu": cpu,
    "memory_gib": round(mem_kb / 2**20, 1),
    "kernel": platform.release(),
    "git_commit": sys.argv[2],
    "uncommitted_files": int(sys.argv[3]),
    "rustc": subprocess.check_output(["rustc", "--version"], text=True).strip(),
    "load_average": open("/proc/loadavg").read().split()[:3],
    "quick": os.environ.get("QUICK", "0") == "1",
}
json.dump(machine, open(sys.argv[1], "w"), indent=2)
print(f"- date: {machine['date']}")
print(f"- machine: {machine['nproc']} cores (nproc), {machine['cpu']}, {machine['memory_gib']} GiB, Linux {machine['kernel']}")
print(f"- git commit: {machine['git_commit']}" + (f" with {machine['uncommitted_files']} uncommitted files" if machine["uncommitted_files"] else ""))
print(f"- {machine['rustc']}; load average at the start: {' '.join(machine['load_average'])}")
if machine["quick"]:
    print("- QUICK=1: a smoke run (small sizes, short durations); not figures to publish")
PY
}

part_import() {
    echo "## Import"; echo
    bash bench/import.sh "${sizes[@]}"
}

part_search() {
    echo "## Search latency"; echo
    local list
    list=$(IFS=,; echo "${sizes[*]}")
    "$bin/examples/search_bench" --sizes "$list" --searches "${SEARCHES:-1000}" \
        > "$work/search-bench.log"
    kv_tsv < "$work/search-bench.log" > "$results/search.tsv"
    md_table "$results/search.tsv" profiles=profiles published=published \
        median_ms=median=ms p99_ms="99th percentile"=ms
}

part_match() {
    echo "## Matching latency"; echo
    local n
    for n in "${sizes[@]}"; do
        "$bin/examples/match_bench" "$n" "${MATCH_QUERIES:-1000}"
    done > "$work/match-bench.log"
    kv_tsv < "$work/match-bench.log" > "$results/match.tsv"
    md_table "$results/match.tsv" profiles=profiles build_ms=build=ms median_ms=median=ms \
        p99_ms="99th percentile"=ms broadest_median_ms="broadest person, median"=ms
}

part_stats() {
    echo "## Statistics"; echo
    cargo test --release -q -p exchange --test stats -- --ignored --nocapture \
        > "$work/stats.log" 2>&1 || { cat "$work/stats.log" >&2; return 1; }
    # "compute on 100000 profiles: best of 5 215.3ms (CPU Some(210.1ms)); ..."
    python3 - "$work/stats.log" > "$results/stats.tsv" <<'PY'
import re, sys
def ms(d):
    value, unit = re.fullmatch(r"([0-9.]+)(ns|µs|us|ms|s)", d).groups()
    return float(value) * {"ns": 1e-6, "µs": 1e-3, "us": 1e-3, "ms": 1, "s": 1000}[unit]
m = re.search(r"compute on (\d+) profiles: best of 5 (\S+) \(CPU Some\((\S+)\)\)", open(sys.argv[1]).read())
print("profiles\tbest_of_5_ms\tcpu_ms")
print(f"{m[1]}\t{ms(m[2]):.1f}\t{ms(m[3]):.1f}")
PY
    md_table "$results/stats.tsv" profiles=profiles best_of_5_ms="stats::compute, best of 5"=ms \
        cpu_ms="on a CPU"=ms
}

part_quality() {
    echo "## Search quality"; echo
    cargo test --release -q -p exchange --test search_eval -- --nocapture \
        > "$work/search-eval.log" 2>&1 || { cat "$work/search-eval.log" >&2; return 1; }
    sed -n 's|^search evaluation: \([0-9]*\)/\([0-9]*\) .* over \([0-9]*\) queries: score \([0-9.]*\)|RESULT found=\1 expected=\2 queries=\3 score=\4|p' \
        "$work/search-eval.log" | kv_tsv > "$results/quality.tsv"
    md_table "$results/quality.tsv" queries=queries expected="expected people" \
        found="found in the top 5" score=score
}

part_web() {
    rm -f "$results/web.jsonl"
    local n
    for n in "${sizes[@]}"; do
        echo "## Web tool at $n profiles, every search computed"
        SEARCH_CACHE=0 MIX=cycle bash bench/web.sh "$n"
        echo
    done
    echo "## Web tool at $largest profiles, as deployed (search cache, popular mix)"
    SEARCH_CACHE=1024 MIX=popular bash bench/web.sh "$largest"
}

part_crawl() {
    echo "## Crawl requests against MediaWiki"; echo
    bash bench/crawl.sh "${crawl_sizes[@]}"
}

part_growth() {
    echo "## Growth with the number of profiles"; echo
    python3 bench/growth.py --results "$results" --svg "${GROWTH_SVG:-bench/growth.svg}"
    echo
    echo "Plot: ${GROWTH_SVG:-bench/growth.svg}"
}

echo "# Capacity Exchange benchmarks (bench/all.sh)"
echo
# Every build first, so that nothing compiles while a part measures: the same cargo
# invocations as the parts' own (a different set of packages can mean other features, so
# another build), which then find everything up to date.
say "building the release binaries and examples ..."
cargo build --release --quiet -p indexer
cargo build --release --quiet -p indexer -p webtool
cargo build --release --quiet -p exchange --examples
if [[ " ${parts[*]} " == *" stats "* || " ${parts[*]} " == *" quality "* ]]; then
    cargo test --release --quiet -p exchange --test stats --test search_eval --no-run
fi
started=$(now)
for part in "${parts[@]}"; do
    declare -F "part_$part" >/dev/null || { echo "unknown part: $part" >&2; exit 2; }
    say "$part ..."
    t=$(now)
    "part_$part"
    echo
    say "$part done in $(since "$t") s"
done
say "all done in $(since "$started") s; results in $results"
