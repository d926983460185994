#!/usr/bin/env bash
# Import benchmark: synthetic exports of N profiles, imported into a fresh data directory.
# Prints one Markdown table row per size: profiles, export size, import wall time, peak RSS,
# snapshot size. Usage: bench/import.sh [SIZES...]   (default: 1000 10000 100000)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("${@:-1000 10000 100000}")
[ $# -eq 0 ] && sizes=(1000 10000 100000)
cargo build --release -p indexer --quiet
work="${BENCH_DIR:-target/bench}"
mkdir -p "$work"
echo "| profiles | export (.xml.gz) | import wall time | peak RSS | snapshot on disk | profiles published |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    export_file="$work/synth-$n.xml.gz"
    [ -f "$export_file" ] || target/release/indexer synth --profiles "$n" --out "$export_file" 2>/dev/null
    data="$work/data-$n"
    rm -rf "$data"
    /usr/bin/time -f "%e %M" -o "$work/time-$n" \
        target/release/indexer import --dump "$export_file" --data "$data" \
        --summary-json "$work/summary-$n.json" 2>/dev/null
    read -r secs kb < "$work/time-$n"
    published=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['profiles'])" "$work/summary-$n.json")
    gen="$data/generations/$(cat "$data/current")"
    printf "| %s | %s | %s s | %s MB | %s | %s |\n" "$n" \
        "$(du -h "$export_file" | cut -f1)" "$secs" "$((kb / 1024))" \
        "$(du -sh "$gen" | cut -f1)" "$published"
done
