# shellcheck shell=bash disable=SC2034  # the variables are used by the scripts that source this
# Shared by the scripts in bench/ (sourced, not run): works from the repository root, says
# where files go, and holds the helpers every part uses.
#
#   BENCH_DIR    work files: exports, data directories, logs (default target/bench)
#   RESULTS_DIR  machine-readable results, one file per part (default $BENCH_DIR/results)
#
# Paths are relative to the repository root.

cd "$(dirname "${BASH_SOURCE[0]}")/.." || exit 1
work=${BENCH_DIR:-target/bench}
results=${RESULTS_DIR:-$work/results}
bin=${CARGO_TARGET_DIR:-target}/release
mkdir -p "$work" "$results"

# synth_export N: prints the path of the synthetic export of N profiles (`indexer synth`,
# default seed), made the first time it is asked for.
synth_export() {
    local file="$work/synth-$1.xml.gz"
    if [ ! -f "$file" ]; then
        # Written under another name first (ending in .gz: synth compresses by the name),
        # so an interrupted run leaves no truncated export behind.
        "$bin/indexer" synth --profiles "$1" --out "$work/synth-$1.partial.xml.gz" 2>/dev/null
        mv "$work/synth-$1.partial.xml.gz" "$file"
    fi
    echo "$file"
}

# need_command COMMAND PACKAGE: COMMAND from Debian's PACKAGE, installed with apt-get when
# it is missing and we are root; otherwise a clear error.
need_command() {
    command -v "$1" >/dev/null && return 0
    if [ "$(id -u)" -ne 0 ]; then
        echo "$1 is needed: apt-get install $2" >&2
        exit 1
    fi
    echo "installing $2 (for $1) ..." >&2
    DEBIAN_FRONTEND=noninteractive apt-get update -qq >&2
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$2" >&2
}

# now: seconds since the epoch, with fractions.
now() { date +%s.%N; }

# since T: seconds elapsed since T (from `now`), two decimals.
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.2f", b - a }'; }
