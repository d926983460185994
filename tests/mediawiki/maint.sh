#!/usr/bin/env bash
# Run one of MediaWiki's maintenance scripts against the test wiki:
#
#   tests/mediawiki/maint.sh runJobs --maxjobs 1000
#   tests/mediawiki/maint.sh importDump --no-updates dump.xml
#   tests/mediawiki/maint.sh edit.php --user Admin 'User:Foo' < text
#
# SCRIPT may be given with or without ".php". MW_CONFIG_FILE is set to the
# LocalSettings.php in the state dir ($MW_STATE, as for up.sh).
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

if (( $# < 1 )); then
    echo "usage: $0 SCRIPT [ARGS...]   (e.g. runJobs, importDump, deleteBatch)" >&2
    exit 2
fi
script=${1%.php}
shift

if [[ ! -f $MW_CONFIG_FILE ]]; then
    echo "[maint] no $MW_CONFIG_FILE: run tests/mediawiki/up.sh first" >&2
    exit 1
fi
if [[ ! -f $MW_IP/maintenance/$script.php ]]; then
    echo "[maint] no such maintenance script: $MW_IP/maintenance/$script.php" >&2
    exit 2
fi

export MW_CONFIG_FILE
exec php "$MW_IP/maintenance/$script.php" "$@"
