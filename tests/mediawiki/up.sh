#!/usr/bin/env bash
# Stand up a FRESH MediaWiki 1.39 (Debian 12's package) on 127.0.0.1 for the
# end-to-end tests:
#
#   1. wipe the state dir ${MW_STATE:-<repo>/target/mediawiki} (stopping a
#      server left running from it),
#   2. install the wiki with SQLite (maintenance/install.php) and append the
#      test settings to the generated LocalSettings.php,
#   3. serve it with PHP's built-in web server on ${MW_PORT:-8181}, in its
#      own process group (down.sh stops it),
#   4. create the accounts: Admin (sysop, bureaucrat; made by the installer)
#      and CapxBot (bot) with the bot password CapxBot@capx,
#   5. install the tool's pages from wiki/ as CapxBot with
#      `indexer install-pages` (when the built binary is there and current),
#   6. write $MW_STATE/env.sh for the tests to source.
#
# Needs tests/mediawiki/install-packages.sh to have run. Reaches nothing but
# 127.0.0.1.
# shellcheck disable=SC2016  # PHP and bash snippets in single quotes are meant literally
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

say() { printf '[up] %s\n' "$*"; }
die() { printf '[up] ERROR: %s\n' "$*" >&2; exit 1; }

# A random password of `n` characters from [0-9a-v] (base 32, like
# MediaWiki's own BotPassword::generatePassword).
random_password() {
    local n=$1 out=""
    while (( ${#out} < n )); do
        out+=$(head -c 256 /dev/urandom | LC_ALL=C tr -dc '0-9a-v')
    done
    printf '%s' "${out:0:n}"
}

# Run a maintenance script against this wiki, quietly unless it fails.
maint() {
    local script=$1 log
    shift
    log=$(MW_CONFIG_FILE=$MW_CONFIG_FILE php "$MW_IP/maintenance/$script.php" "$@" 2>&1) || {
        printf '%s\n' "$log" >&2
        die "maintenance/$script.php failed"
    }
}

total_start=$(mw_now)

[[ -f $MW_IP/maintenance/install.php ]] \
    || die "MediaWiki is not installed at $MW_IP: run tests/mediawiki/install-packages.sh"
command -v php >/dev/null || die "php is not installed: run tests/mediawiki/install-packages.sh"
command -v curl >/dev/null || die "curl is needed"

SERVER=http://127.0.0.1:$MW_PORT
API_URL=$SERVER/api.php
INDEX_URL=$SERVER/index.php
ADMIN_USER=Admin
ADMIN_PASSWORD=${MW_ADMIN_PASSWORD:-admin-$(random_password 24)}
BOT_USER=CapxBot
BOT_APPID=capx
# The bot account's own password (not used by the tool; it logs in with the
# bot password below).
BOT_MAIN_PASSWORD=bot-$(random_password 24)
# A bot password must be exactly 32 characters of [0-9a-w]: that is how
# MediaWiki tells it from a main password (BotPassword::canonicalizeLoginData);
# with anything else, the login just fails.
BOT_PASSWORD=$(random_password 32)

# --- 1. A clean state dir --------------------------------------------------
t=$(mw_now)
case $MW_STATE in
    "" | / | /root | /home | /work | /work/main | /tmp) die "refusing to use MW_STATE=$MW_STATE" ;;
esac
if [[ -d $MW_STATE ]]; then
    # Never wipe a directory that up.sh did not make (e.g. a mistyped MW_STATE).
    if [[ -n $(ls -A "$MW_STATE") && ! -f $MW_STATE/$MW_STATE_MARKER ]]; then
        die "$MW_STATE exists, is not empty and was not made by up.sh; not wiping it"
    fi
    "$MW_TESTS_DIR/down.sh" | sed 's/^/  /'
    rm -rf "$MW_STATE"
fi
mw_port_in_use "$MW_PORT" && die "port $MW_PORT on 127.0.0.1 is already in use (set MW_PORT?)"
mkdir -p "$MW_STATE"
touch "$MW_STATE/$MW_STATE_MARKER"
mw_elapsed "[up] wipe state dir $MW_STATE" "$t"

# --- 2. Install ----------------------------------------------------------------
t=$(mw_now)
# install.php writes LocalSettings.php into --confpath; it must not find one
# at MW_CONFIG_FILE (it would refuse), which holds since the dir was wiped.
export MW_CONFIG_FILE
install_log=$(php "$MW_IP/maintenance/install.php" \
    --dbtype=sqlite --dbpath="$MW_STATE/db" --dbname="$MW_DB_NAME" \
    --confpath="$MW_STATE" \
    --server="$SERVER" --scriptpath="" \
    --lang=en --pass="$ADMIN_PASSWORD" \
    "Capacity Exchange Test" "$ADMIN_USER" 2>&1) || {
    printf '%s\n' "$install_log" >&2
    die "install.php failed"
}
printf '%s\n' "$install_log" > "$MW_STATE/install.log"
[[ -f $MW_CONFIG_FILE ]] || die "install.php wrote no $MW_CONFIG_FILE"

# Extensions Debian ships that the tool's pages use (ParserFunctions for
# {{#if:}}, Scribunto for Module:Capacity Exchange) or that Meta-Wiki has
# (TemplateData, which also validates the <templatedata> block of the doc page
# on save). Scribunto only with its interpreter (Debian's LuaStandalone engine
# runs /usr/bin/lua5.1, installed by install-packages.sh): without it, every
# {{#invoke:}} would be a script error, whereas without Scribunto the template
# falls back to showing values as written.
extensions=""
for ext in ParserFunctions TemplateData Scribunto; do
    if [[ $ext == Scribunto && ! -x /usr/bin/lua5.1 ]]; then
        say "no /usr/bin/lua5.1: Scribunto not loaded (run install-packages.sh)"
        continue
    fi
    if [[ -f $MW_IP/extensions/$ext/extension.json ]]; then
        extensions+="wfLoadExtension( '$ext' );"$'\n'
    fi
done

cat >> "$MW_CONFIG_FILE" <<PHP

# ---------------------------------------------------------------------------
# Capacity Exchange end-to-end test settings (appended by tests/mediawiki/up.sh)
# ---------------------------------------------------------------------------
\$wgShowExceptionDetails = true;
\$wgCapitalLinks = true;
# Project namespace (4) named as on Meta-Wiki, so exports from it (and the
# tool's synthetic ones) import "Meta:..." pages into namespace 4.
\$wgMetaNamespace = 'Meta';

# Importing an export (maintenance/importDump.php): give each contributor
# that has no local account one, as exists on Meta-Wiki (unified accounts),
# instead of recording the edit under "imported>Name". The tool's trust
# rules compare a revision's author with the owner of the user page.
\$wgHooks['ImportHandleUnknownUser'][] = static function ( \$name ) {
	\$user = User::createNew( \$name );
	return \$user === null; // false: handled, so the importer looks again
};

# No rate limits or throttles: every test client comes from 127.0.0.1.
\$wgRateLimits = [];
\$wgGroupPermissions['*']['noratelimit'] = true;
\$wgGroupPermissions['user']['noratelimit'] = true;
\$wgAccountCreationThrottle = [];
\$wgPasswordAttemptThrottle = [];

# Anyone may create an account (no CAPTCHA extension is loaded).
\$wgGroupPermissions['*']['createaccount'] = true;
# No mail: there is no MTA, and nothing may leave the machine.
\$wgEnableEmail = false;
\$wgEnableUserEmail = false;

\$wgEnableBotPasswords = true;

# One queued job runs at the end of each web request; tests that need the
# queue drained run maintenance/runJobs.php (tests/mediawiki/maint.sh runJobs).
\$wgJobRunRate = 1;

# No object cache (sessions and the parser cache then use the SQLite
# objectcache table through CACHE_ANYTHING).
\$wgMainCacheType = CACHE_NONE;

# Uploads are off; keep anything file-like inside the state dir anyway.
\$wgUploadDirectory = "$MW_STATE/images";
\$wgCacheDirectory = "$MW_STATE/cache";

# SQLite: skip fsync() everywhere (a crash only loses a throwaway test wiki).
# The main database is declared through \$wgDBservers so that it can take
# PRAGMAs ('variables'); the other SQLite files are configured above.
\$wgDBservers = [ [
	'host' => '',
	'dbname' => \$wgDBname,
	'user' => '',
	'password' => '',
	'type' => 'sqlite',
	'flags' => DBO_DEFAULT,
	'load' => 1,
	'variables' => [ 'synchronous' => 'OFF' ],
] ];
\$wgObjectCaches[CACHE_DB]['server']['variables']['synchronous'] = 'OFF';
\$wgLocalisationCacheConf['storeServer']['variables']['synchronous'] = 'OFF';
\$wgJobTypeConf['default']['server']['variables']['synchronous'] = 'OFF';

$extensions
PHP

# WAL journal: readers no longer block the writer, which matters with several
# server workers and a maintenance script on the same SQLite files. The mode
# is stored in the database file, so setting it once is enough.
php -r '
foreach (array_slice($argv, 1) as $f) {
    $db = new PDO("sqlite:$f");
    $mode = $db->query("PRAGMA journal_mode=WAL")->fetchColumn();
    if (strtolower($mode) !== "wal") { fwrite(STDERR, "$f: journal_mode=$mode\n"); exit(1); }
}' "$MW_STATE"/db/*.sqlite || die "could not switch the SQLite files to WAL"
# (The installer may have created objectcache/l10n files empty; WAL applies
# to every file present.)

mw_elapsed "[up] install.php + LocalSettings.php" "$t"

# --- 3. Web server ---------------------------------------------------------
t=$(mw_now)
# PHP's built-in server, with PHP_CLI_SERVER_WORKERS forked workers (so a
# slow request, e.g. one that runs a job, does not stall the others). It runs
# in its own session and process group (setsid), whose id is written to
# server.pid by the process itself before it becomes php; down.sh kills the
# whole group, workers included.
setsid bash -c '
    echo $$ > "$1/server.pid"
    exec env MW_CONFIG_FILE="$2" PHP_CLI_SERVER_WORKERS=4 \
        php -d opcache.enable=1 -d memory_limit=512M \
        -S "127.0.0.1:$3" -t "$4"
' capx-mediawiki "$MW_STATE" "$MW_CONFIG_FILE" "$MW_PORT" "$MW_IP" \
    > "$MW_STATE/server.log" 2>&1 < /dev/null &

siteinfo="$API_URL?action=query&meta=siteinfo&format=json"
deadline=$(( $(date +%s) + 30 ))
until curl -fsS --max-time 10 "$siteinfo" 2>/dev/null | grep -q '"sitename":"Capacity Exchange Test"'; do
    if (( $(date +%s) >= deadline )); then
        tail -n 30 "$MW_STATE/server.log" >&2 || true
        "$MW_TESTS_DIR/down.sh" >&2 || true
        die "the wiki did not answer at $siteinfo within 30 s (log: $MW_STATE/server.log)"
    fi
    if [[ -f $MW_STATE/server.pid ]] && ! kill -0 "$(<"$MW_STATE/server.pid")" 2>/dev/null; then
        tail -n 30 "$MW_STATE/server.log" >&2 || true
        die "the web server exited (log: $MW_STATE/server.log)"
    fi
    sleep 0.2
done
mw_elapsed "[up] web server answering at $SERVER (process group $(<"$MW_STATE/server.pid"))" "$t"

# --- 4. Accounts -------------------------------------------------------------
t=$(mw_now)
# Admin was made by install.php (groups sysop, bureaucrat, interface-admin).
maint createAndPromote --bot "$BOT_USER" "$BOT_MAIN_PASSWORD"
# Last, since createAndPromote.php --force would wipe existing bot passwords.
maint createBotPassword --appid="$BOT_APPID" \
    --grants=basic,highvolume,editpage,createeditmovepage \
    "$BOT_USER" "$BOT_PASSWORD"
mw_elapsed "[up] accounts $ADMIN_USER and $BOT_USER@$BOT_APPID" "$t"

# --- 5. The tool's pages -------------------------------------------------------
# Saved by `indexer install-pages` as CapxBot, the way they are installed on
# Meta-Wiki, so what the tests crawl is what users will edit. The binary
# embeds wiki/ when it is built: one older than a file in wiki/ would install
# stale pages, so it is skipped then (the end-to-end tests install the pages
# again with the binary they were built with).
t=$(mw_now)
indexer_bin=${CAPX_INDEXER:-${CARGO_TARGET_DIR:-$MW_REPO_DIR/target}/debug/indexer}
stale=""
if [[ -x $indexer_bin ]]; then
    stale=$(find "$MW_REPO_DIR/wiki" -type f -newer "$indexer_bin" -print -quit)
fi
if [[ -x $indexer_bin && -z $stale ]]; then
    CAPX_WIKI_USER="$BOT_USER@$BOT_APPID" CAPX_WIKI_PASSWORD="$BOT_PASSWORD" \
        CAPX_WIKI_OAUTH2_TOKEN="" RUST_LOG=warn \
        "$indexer_bin" install-pages --api "$API_URL" | sed 's/^/  /' \
        || die "indexer install-pages failed"
    mw_elapsed "[up] pages from wiki/ installed" "$t"
else
    if [[ -n $stale ]]; then
        say "pages from wiki/ NOT installed: $indexer_bin is older than $stale."
    else
        say "pages from wiki/ NOT installed: no $indexer_bin."
    fi
    say "  build it (cargo build -p indexer), then: source $MW_STATE/env.sh && $indexer_bin install-pages --api $API_URL"
fi

# --- 6. env.sh -----------------------------------------------------------------
{
    echo "# Written by tests/mediawiki/up.sh: source it to reach the test wiki."
    printf 'export %s=%q\n' \
        MW_API_URL "$API_URL" \
        MW_INDEX_URL "$INDEX_URL" \
        MW_STATE "$MW_STATE" \
        MW_CONFIG_FILE "$MW_CONFIG_FILE" \
        MW_ADMIN_USER "$ADMIN_USER" \
        MW_ADMIN_PASSWORD "$ADMIN_PASSWORD" \
        CAPX_WIKI_USER "$BOT_USER@$BOT_APPID" \
        CAPX_WIKI_PASSWORD "$BOT_PASSWORD"
} > "$MW_STATE/env.sh"

say "env: $MW_STATE/env.sh"
mw_elapsed "[up] total" "$total_start"
