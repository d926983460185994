#!/usr/bin/env bash
# Hostile profiles (issue 8): the server time of the pages of the hostile catalogue
# (webtool/tests/hostile/catalogue.rs: script in every parameter, 10,000 items, a 2 MB
# bio, a 50,000-character word, bidi overrides, zero-width look-alikes, …) against the
# same pages of its ordinary people, on the release build.
#
#   bench/hostile.sh      env: RUNS=50 HOSTILE_PORT=8189 BENCH_DIR (default target/bench)
#
# 1. Builds the release binaries and the `hostile_export` example, which writes the
#    catalogue as an XML export (and lists its people); `indexer import` publishes it.
# 2. Starts `webtool --search-cache 0` (every search is computed, none answered from the
#    cache) on 127.0.0.1 and waits for /healthz.
# 3. Asks each page RUNS times over one kept-alive connection (one curl per page, no
#    compression asked), after one request to warm it: curl's time_total per request, and
#    the handler's own time from the Server-Timing header where the handler sets one (the
#    search page and the search API).
# 4. Prints a Markdown table: median and max of each, the page's size, and the ratio of
#    each hostile page's median to the median of the same page kind for ordinary people.
#
# Self-contained (it shares nothing with the other scripts of bench/), so it can be run
# alone: the figures of BENCHMARKS.md's "Hostile profiles (issue 8)" section.
set -euo pipefail
cd "$(dirname "$0")/.."
runs=${RUNS:-50}
port=${HOSTILE_PORT:-8189}
work=${BENCH_DIR:-target/bench}/hostile
bin=${CARGO_TARGET_DIR:-target}/release
mkdir -p "$work"
command -v curl >/dev/null || { echo "curl is needed: apt-get install curl" >&2; exit 1; }

cargo build --release --quiet -p indexer -p webtool
cargo build --release --quiet -p webtool --example hostile_export
"$bin/examples/hostile_export" "$work/export.xml" > "$work/people.tsv"
rm -rf "$work/data"
started=$(date +%s.%N)
"$bin/indexer" import --dump "$work/export.xml" --data "$work/data" 2>/dev/null
imported=$(awk -v a="$started" -v b="$(date +%s.%N)" 'BEGIN { printf "%.2f", b - a }')

"$bin/webtool" --data "$work/data" --bind 127.0.0.1 --port "$port" --search-cache 0 \
    > "$work/webtool.log" 2>&1 &
server=$!
trap 'kill "$server" 2>/dev/null || true' EXIT
base="http://127.0.0.1:$port"
for _ in $(seq 1 100); do
    curl -sf "$base/healthz" >/dev/null 2>&1 && break
    sleep 0.1
done
curl -sf "$base/healthz" >/dev/null

# time_page KIND WHO PATH: one table row.
time_page() {
    local kind=$1 who=$2 path=$3 urls=() i
    # Each URL needs its own -o: curl applies one to one URL.
    for ((i = 0; i < runs; i++)); do urls+=(-o /dev/null "$base$path"); done
    curl -s -o /dev/null "$base$path"
    curl -s -w '%{time_total} %{size_download} %header{server-timing}\n' "${urls[@]}" |
        awk -v kind="$kind" -v who="$who" -v path="$path" '
            function median(a, n,   sorted, i, j, t) {
                for (i = 1; i <= n; i++) sorted[i] = a[i]
                for (i = 2; i <= n; i++) { t = sorted[i]; for (j = i - 1; j > 0 && sorted[j] > t; j--) sorted[j + 1] = sorted[j]; sorted[j + 1] = t }
                return n % 2 ? sorted[(n + 1) / 2] : (sorted[n / 2] + sorted[n / 2 + 1]) / 2
            }
            {
                total[NR] = $1 * 1000; if ($1 * 1000 > max) max = $1 * 1000; size = $2
                if (match($0, /dur=[0-9.]+/)) { st[++m] = substr($0, RSTART + 4, RLENGTH - 4) + 0; if (st[m] > stmax) stmax = st[m] }
            }
            END {
                timing = m ? sprintf("%.2f / %.2f", median(st, m), stmax) : "–"
                printf "%s\t%s\t%s\t%.2f\t%.2f\t%s\t%d\n", kind, who, path, median(total, NR), max, timing, size
            }'
}

rows="$work/rows.tsv"
: > "$rows"
while IFS=$'\t' read -r user kind attack; do
    who=$kind
    [ "$kind" = hostile ] && who="hostile: $attack"
    time_page profile "$who" "/profile/$user?uselang=en" >> "$rows"
    time_page match "$who" "/match/$user?uselang=en" >> "$rows"
    time_page api-profile "$who" "/api/v1/profiles/$user" >> "$rows"
done < "$work/people.tsv"
for q in "q=Jonas%20Weber" "q=Bruno" "skill=grant-writing&kind=wants"; do
    time_page search ordinary "/search?$q&uselang=en" >> "$rows"
    time_page api-search ordinary "/api/v1/search?$q" >> "$rows"
done
for q in "q=Lua" "q=Lua&offset=20" "q=Hostile" "q=Hostile&offset=20" "q=Ana%20Souza" "q=javascript" "q=Pneumonoultramicroscopicsilicovolcanoconiosis"; do
    time_page search "hostile and ordinary" "/search?$q&uselang=en" >> "$rows"
    time_page api-search "hostile and ordinary" "/api/v1/search?$q" >> "$rows"
done
time_page skill "hostile and ordinary" "/skill/lua-modules?uselang=en" >> "$rows"
time_page feed "hostile and ordinary" "/skill/lua-modules/feed.atom?uselang=en" >> "$rows"
time_page stats "hostile and ordinary" "/stats?uselang=en" >> "$rows"

echo
echo "Hostile catalogue: $(wc -l < "$work/people.tsv") people ($(du -k "$work/export.xml" | cut -f1) KB of export, imported in $imported s), $runs requests per page, search cache off"
echo
echo "| page | whose | path | median ms | max ms | Server-Timing median / max ms | bytes | × ordinary median |"
echo "|---|---|---|--:|--:|--:|--:|--:|"
awk -F'\t' '
    { row[NR] = $0; kind[NR] = $1; who[NR] = $2; med[NR] = $4 }
    $2 == "ordinary" { sum[$1] += $4; n[$1]++ }
    END {
        for (i = 1; i <= NR; i++) {
            split(row[i], f, "\t")
            ratio = n[kind[i]] && who[i] != "ordinary" ? sprintf("%.1f", med[i] / (sum[kind[i]] / n[kind[i]])) : ""
            printf "| %s | %s | `%s` | %s | %s | %s | %s | %s |\n", f[1], f[2], f[3], f[4], f[5], f[6], f[7], ratio
        }
    }' "$rows"
