# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this
# Shared settings for the scripts in tests/mediawiki/. Sourced, not run.
#
#   MW_STATE  the wiki's state directory (LocalSettings.php, SQLite files,
#             server log and pid, env.sh); default target/mediawiki in the repo
#   MW_PORT   the loopback port the wiki is served on; default 8181

MW_TESTS_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
MW_REPO_DIR=$(cd "$MW_TESTS_DIR/../.." && pwd)
MW_STATE=${MW_STATE:-$MW_REPO_DIR/target/mediawiki}
MW_PORT=${MW_PORT:-8181}
# Where Debian's mediawiki package puts MediaWiki (read-only for us).
MW_IP=/usr/share/mediawiki
# LocalSettings.php lives in the state dir; MediaWiki 1.39 reads the
# MW_CONFIG_FILE environment variable (includes/BootstrapHelperFunctions.php)
# in both the web entry points and maintenance scripts.
MW_CONFIG_FILE=$MW_STATE/LocalSettings.php
# The wiki's database name: its SQLite file is $MW_STATE/db/$MW_DB_NAME.sqlite.
MW_DB_NAME=capx_wiki
# A file that marks a directory as ours, so up.sh never wipes anything else.
MW_STATE_MARKER=.capx-mediawiki-state

# True if something accepts TCP connections on 127.0.0.1:$1.
mw_port_in_use() {
    (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null
}

# Seconds since the epoch, with milliseconds.
mw_now() { date +%s.%N; }

# Prints "<label>: <seconds since $2> s".
mw_elapsed() {
    awk -v a="$2" -v b="$(mw_now)" -v l="$1" 'BEGIN { printf "%s: %.1f s\n", l, b - a }'
}
