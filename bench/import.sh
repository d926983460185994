#!/usr/bin/env bash
# Import benchmark: synthetic exports of N profiles, imported into a fresh data directory.
#
#   bench/import.sh [SIZES...]      (default: 1000 10000 100000; env: BENCH_DIR, RESULTS_DIR)
#
# Prints one Markdown table row per size: profiles, export size, import wall time, peak RSS,
# snapshot size, profiles published; writes the same as numbers (bytes, seconds, KiB) to
# $RESULTS_DIR/import.tsv.
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000 100000)
need_command /usr/bin/time time
cargo build --release -p indexer --quiet
tsv="$results/import.tsv"
printf "profiles\texport_bytes\timport_seconds\tpeak_rss_kb\tsnapshot_bytes\tpublished\n" > "$tsv"
echo "| profiles | export (.xml.gz) | import wall time | peak RSS | snapshot on disk | profiles published |"
echo "|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    export_file=$(synth_export "$n")
    data="$work/data-$n"
    rm -rf "$data"
    /usr/bin/time -f "%e %M" -o "$work/time-$n" \
        "$bin/indexer" import --dump "$export_file" --data "$data" \
        --summary-json "$work/summary-$n.json" 2>/dev/null
    read -r secs kb < "$work/time-$n"
    published=$(python3 -c "import json,sys; print(json.load(open(sys.argv[1]))['profiles'])" "$work/summary-$n.json")
    gen="$data/generations/$(cat "$data/current")"
    printf "%s\t%s\t%s\t%s\t%s\t%s\n" "$n" "$(stat -c %s "$export_file")" "$secs" "$kb" \
        "$(du -sb "$gen" | cut -f1)" "$published" >> "$tsv"
    printf "| %s | %s | %s s | %s MB | %s | %s |\n" "$n" \
        "$(du -h "$export_file" | cut -f1)" "$secs" "$((kb / 1024))" \
        "$(du -sh "$gen" | cut -f1)" "$published"
done
