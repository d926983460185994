#!/usr/bin/env bash
# Crawl benchmark against the local MediaWiki (tests/mediawiki): for each size, a fresh wiki
# is loaded with `indexer synth --profiles N`, then
#   1. a full crawl (bot password, so high API limits apply, as on Toolforge),
#   2. K pages are edited through the API, then an incremental crawl,
#   3. an incremental crawl with nothing changed.
# Prints a Markdown table: requests (from --summary-json) and wall time of each.
# Usage: bench/crawl.sh [SIZES...]   (default: 1000 10000); K=${EDITS:-100}
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=("$@")
[ ${#sizes[@]} -eq 0 ] && sizes=(1000 10000)
edits=${EDITS:-100}
work="${BENCH_DIR:-target/bench}"
mkdir -p "$work"
cargo build --release -p indexer --quiet
bash tests/mediawiki/install-packages.sh >/dev/null
export MW_STATE="$PWD/$work/mediawiki" MW_PORT="${MW_PORT:-8183}"
trap 'bash tests/mediawiki/down.sh >/dev/null 2>&1 || true' EXIT

seconds() { python3 -c "import time; print(time.time())"; }
crawl() { # crawl NAME [--full]
    local name=$1; shift
    local t0; t0=$(seconds)
    target/release/indexer crawl --api "$MW_API_URL" --data "$data" \
        --summary-json "$work/crawl-$n-$name.json" "$@" 2>>"$work/crawl-$n.log"
    python3 - "$work/crawl-$n-$name.json" "$t0" <<'PY'
import json, sys, time
s = json.load(open(sys.argv[1]))
print(f"{s['requests']} {time.time() - float(sys.argv[2]):.2f} {s['profiles']} {s['mode']}")
PY
}

echo "| profiles (synth N) | published | full crawl: requests (⌈N/50⌉+5) | time | $edits pages edited: requests (⌈k/50⌉+4) | time | nothing changed: requests | time |"
echo "|---:|---:|---:|---:|---:|---:|---:|---:|"
for n in "${sizes[@]}"; do
    export_file="$work/synth-$n.xml.gz"
    [ -f "$export_file" ] || target/release/indexer synth --profiles "$n" --out "$export_file" 2>/dev/null
    bash tests/mediawiki/up.sh >"$work/up-$n.log" 2>&1
    # shellcheck source=/dev/null
    source "$MW_STATE/env.sh"
    bash tests/mediawiki/load-export.sh "$export_file" >"$work/load-$n.log" 2>&1
    data="$work/crawl-data-$n"
    rm -rf "$data"
    read -r full_req full_time published _ < <(crawl full --full)
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
    printf "| %s | %s | %s (%s) | %s s | %s (%s) | %s s | %s | %s s |\n" "$n" "$published" \
        "$full_req" "$(( (n + 49) / 50 + 5 ))" "$full_time" \
        "$inc_req" "$(( (edits + 49) / 50 + 4 ))" "$inc_time" "$idle_req" "$idle_time"
    bash tests/mediawiki/down.sh >/dev/null 2>&1 || true
done
