#!/usr/bin/env bash
# Load a MediaWiki XML export (plain, .gz or .bz2; e.g. from
# `indexer synth --out FILE.xml.gz`) into the test wiki started by up.sh:
#
#   tests/mediawiki/load-export.sh /tmp/s1k.xml.gz
#
# Steps, each timed:
#   1. importDump.php --no-updates: pages and revisions only, no link tables
#      (much faster than letting it run the link updates page by page);
#      contributors without an account get one (see the
#      ImportHandleUnknownUser hook in up.sh), so edits keep their authors;
#   2. refreshLinks.php: rebuilds templatelinks, categorylinks, ... for every
#      page, so list=embeddedin / generator=embeddedin see imported profiles;
#      it parses every page, so it runs as ${MW_LOAD_JOBS:-nproc, at most 4}
#      processes over ranges of page ids (SQLite in WAL mode copes);
#   3. rebuildrecentchanges.php: recent changes from the revisions
#      (only those within $wgRCMaxAge, 90 days, as on Meta-Wiki);
#   4. initSiteStats.php --update: page and edit counts;
#   5. runJobs.php: drains the job queue, so web requests do not run
#      leftover jobs.
# Finally, if the web server answers, prints how many user pages embed
# Template:Capacity Exchange profile.
# shellcheck disable=SC2016  # PHP and bash snippets in single quotes are meant literally
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if (( $# != 1 )); then
    echo "usage: $0 EXPORT.xml[.gz|.bz2]" >&2
    exit 2
fi
file=$(realpath "$1")
[[ -f $file ]] || { echo "[load-export] no such file: $1" >&2; exit 1; }
[[ -f $MW_CONFIG_FILE ]] || { echo "[load-export] no $MW_CONFIG_FILE: run up.sh first" >&2; exit 1; }

maint() { "$MW_TESTS_DIR/maint.sh" "$@"; }

# Run a step quietly (output to $MW_STATE/load-export.log), and time it.
step() {
    local label=$1 t
    shift
    t=$(mw_now)
    echo "== $label: $*" >> "$MW_STATE/load-export.log"
    if ! "$@" >> "$MW_STATE/load-export.log" 2>&1; then
        tail -n 30 "$MW_STATE/load-export.log" >&2
        echo "[load-export] ERROR: $label failed (log: $MW_STATE/load-export.log)" >&2
        exit 1
    fi
    mw_elapsed "[load-export] $label" "$t"
}

# refreshLinks.php over the page ids 1..max, split into $jobs ranges run at
# once. Output goes to the step's log; fails if any range fails.
refresh_links_parallel() {
    local jobs max size start end pids=() pid rc=0
    jobs=${MW_LOAD_JOBS:-$(nproc)}
    (( jobs > 4 )) && jobs=4
    (( jobs < 1 )) && jobs=1
    # The highest page id, read straight from the SQLite file.
    max=$(php -r '
        $db = new PDO("sqlite:" . $argv[1]);
        echo (int)$db->query("SELECT MAX(page_id) FROM page")->fetchColumn();
    ' "$MW_STATE/db/$MW_DB_NAME.sqlite")
    size=$(( (max + jobs - 1) / jobs ))
    echo "refreshLinks: pages 1..$max in $jobs ranges"
    for (( start = 1; start <= max; start += size )); do
        end=$(( start + size - 1 ))
        maint refreshLinks --e "$end" "$start" &
        pids+=($!)
    done
    for pid in "${pids[@]}"; do
        wait "$pid" || rc=1
    done
    return $rc
}

total=$(mw_now)
: > "$MW_STATE/load-export.log"
# importDump.php opens .gz and .bz2 files itself (by their suffix).
step "importDump" maint importDump --no-updates "$file"
step "refreshLinks" refresh_links_parallel
step "rebuildrecentchanges" maint rebuildrecentchanges
step "initSiteStats" maint initSiteStats --update
step "runJobs" maint runJobs --memory-limit=512M
mw_elapsed "[load-export] total for $(basename "$file")" "$total"

# A check that needs the server; skipped when it is not running.
api="http://127.0.0.1:$MW_PORT/api.php"
if curl -fsS --max-time 5 "$api?action=query&meta=siteinfo&format=json" >/dev/null 2>&1; then
    count=0
    cont=()
    while :; do
        json=$(curl -fsS --max-time 60 -G "$api" \
            --data-urlencode action=query --data-urlencode list=embeddedin \
            --data-urlencode "eititle=Template:Capacity Exchange profile" \
            --data-urlencode einamespace=2 --data-urlencode eilimit=max \
            --data-urlencode format=json --data-urlencode formatversion=2 "${cont[@]}")
        read -r n next < <(php -r '
            $j = json_decode(stream_get_contents(STDIN), true);
            echo count($j["query"]["embeddedin"] ?? []), " ", $j["continue"]["eicontinue"] ?? "", "\n";' <<<"$json")
        count=$(( count + n ))
        [[ -n $next ]] || break
        cont=(--data-urlencode "eicontinue=$next")
    done
    echo "[load-export] user pages embedding Template:Capacity Exchange profile: $count"
fi
