#!/usr/bin/env bash
# Crawl benchmark against the local MediaWiki (tests/mediawiki): for each size, a fresh wiki
# is loaded with `indexer synth --profiles N` (the tool's pages installed by the release
# `indexer install-pages`), then
#   1. a full crawl (bot password, so high API limits apply, as on Toolforge),
#   2. the naive crawler bench/naive_crawl.py against the same wiki: the pages listed with
#      list=embeddedin, then each page read with a request of its own, as a simple bot
#      script would; the ratio of its requests to the full crawl's, measured in the same run,
#   3. K pages are edited through the API, then an incremental crawl,
#   4. an incremental crawl with nothing changed.
# Prints a Markdown table: requests (from --summary-json) and wall time of each; writes the
# same to $RESULTS_DIR/crawl.tsv.
#
#   bench/crawl.sh [SIZES...]     (default: 1000 10000)
#   env: EDITS=100 (K), MW_PORT=8183, BENCH_DIR=target/bench (the wiki's state goes to
#        $BENCH_DIR/mediawiki), RESULTS_DIR, NAIVE=0 to skip the naive crawler
#
# Needs the MediaWiki packages (tests/mediawiki/install-packages.sh, run here: as root it
# installs them when missing).
set -euo pipefail
# shellcheck source=bench/common.sh
source "$(dirname "$0")/common.sh"
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
edits=${EDITS:-100}
naive=${NAIVE:-1}
cargo build --release -p indexer --quiet
bash tests/mediawiki/install-packages.sh >/dev/null
MW_STATE="$(realpath "$work")/mediawiki" MW_PORT="${MW_PORT:-8183}"
export MW_STATE MW_PORT
# up.sh installs the tool's pages with this binary (its default is the debug build).
CAPX_INDEXER="$(realpath "$bin")/indexer"
export CAPX_INDEXER
trap 'bash tests/mediawiki/down.sh >/dev/null 2>&1 || true' EXIT

crawl() { # crawl NAME [--full ...]: prints "requests seconds profiles mode"
    local name=$1; shift
    local t0; t0=$(now)
    "$bin/indexer" crawl --api "$MW_API_URL" --data "$data" \
        --summary-json "$work/crawl-$n-$name.json" "$@" 2>>"$work/crawl-$n.log"
    python3 - "$work/crawl-$n-$name.json" "$(since "$t0")" <<'PY'
import json, sys
s = json.load(open(sys.argv[1]))
print(f"{s['requests']} {sys.argv[2]} {s['profiles']} {s['mode']}")
PY
}

tsv="$results/crawl.tsv"
printf "profiles\tpublished\tfull_requests\tfull_bound\tfull_seconds\tnaive_requests\tnaive_seconds\tnaive_ratio\tedits\tincremental_requests\tincremental_bound\tincremental_seconds\tidle_requests\tidle_seconds\n" > "$tsv"
echo "| profiles (synth N) | published | full crawl: requests (⌈N/50⌉+5) | time | naive crawler: requests | time | naive / full requests | $edits pages edited: requests (⌈k/50⌉+4) | time | nothing changed: requests | time |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    export_file=$(synth_export "$n")
    bash tests/mediawiki/up.sh >"$work/up-$n.log" 2>&1
    # shellcheck source=/dev/null
    source "$MW_STATE/env.sh"
    bash tests/mediawiki/load-export.sh "$export_file" >"$work/load-$n.log" 2>&1
    data="$work/crawl-data-$n"
    rm -rf "$data"
    read -r full_req full_time published _ < <(crawl full --full)
    naive_req=- naive_time=- ratio=-
    if [ "$naive" = 1 ]; then
        read -r naive_req naive_time < <(python3 bench/naive_crawl.py --api "$MW_API_URL" \
            --summary-json "$work/naive-crawl-$n.json" 2>>"$work/crawl-$n.log" \
            | python3 -c "import json,sys; s = json.load(sys.stdin); print(s['requests'], s['seconds'])")
        ratio=$(awk -v a="$naive_req" -v b="$full_req" 'BEGIN { printf "%.1f", a / b }')
    fi
    # Edit K profile pages as the bot (someone else's edit: the profile itself stays).
    python3 - "$MW_API_URL" "$CAPX_WIKI_USER" "$CAPX_WIKI_PASSWORD" "$edits" <<'PY'
import http.cookiejar, json, sys, urllib.parse, urllib.request
api, user, password, k = sys.argv[1], sys.argv[2], sys.argv[3], int(sys.argv[4])
opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
def call(params, post=False):
    params = dict(params, format="json", formatversion="2")
    data = urllib.parse.urlencode(params).encode()
    req = urllib.request.Request(api, data=data) if post else urllib.request.Request(api + "?" + data.decode())
    return json.load(opener.open(req))
token = call({"action": "query", "meta": "tokens", "type": "login"})["query"]["tokens"]["logintoken"]
assert call({"action": "login", "lgname": user, "lgpassword": password, "lgtoken": token}, True)["login"]["result"] == "Success"
pages = call({"action": "query", "list": "embeddedin", "eititle": "Template:Capacity Exchange profile",
              "einamespace": "2", "eilimit": str(k)})["query"]["embeddedin"]
csrf = call({"action": "query", "meta": "tokens"})["query"]["tokens"]["csrftoken"]
for page in pages:
    r = call({"action": "edit", "title": page["title"], "appendtext": "\n<!-- benchmark edit -->",
              "summary": "benchmark", "bot": "1", "token": csrf}, True)
    assert r.get("edit", {}).get("result") == "Success", r
PY
    sleep 1
    read -r inc_req inc_time _ _ < <(crawl incremental --overlap-secs 1)
    sleep 2
    read -r idle_req idle_time _ _ < <(crawl idle --overlap-secs 1)
    full_bound=$(( (n + 49) / 50 + 5 )) inc_bound=$(( (edits + 49) / 50 + 4 ))
    printf "%s\t" "$n" "$published" "$full_req" "$full_bound" "$full_time" "$naive_req" \
        "$naive_time" "$ratio" "$edits" "$inc_req" "$inc_bound" "$inc_time" "$idle_req" >> "$tsv"
    printf "%s\n" "$idle_time" >> "$tsv"
    printf "| %s | %s | %s (%s) | %s s | %s | %s s | %s | %s (%s) | %s s | %s | %s s |\n" "$n" \
        "$published" "$full_req" "$full_bound" "$full_time" "$naive_req" "$naive_time" \
        "$ratio" "$inc_req" "$inc_bound" "$inc_time" "$idle_req" "$idle_time"
    bash tests/mediawiki/down.sh >/dev/null 2>&1 || true
done
