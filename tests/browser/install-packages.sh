#!/usr/bin/env bash
# Install Debian's Chromium and its WebDriver server for the browser tests
# (webtool/tests/browser.rs), which drive a headless Chromium through
# chromedriver against the web tool on loopback.
#
# Recommends are skipped (they bring a notification daemon, udev, upower and
# more); fonts-dejavu-core is asked for by name so that pages in Latin and
# Arabic script render with real glyphs in the screenshots.
#
# Idempotent: if everything is already installed, it returns at once.
# Must run as root. Reaches only the Debian package mirrors.
set -euo pipefail

PACKAGES=(
    chromium
    chromium-driver
    fonts-dejavu-core
)

say() { printf '[browser/install-packages] %s\n' "$*"; }

installed() {
    # True if every package named is fully installed.
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || return 1
    done
}

if installed "${PACKAGES[@]}"; then
    say "Chromium and chromedriver are already installed; nothing to do."
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    say "must run as root (it calls apt-get)" >&2
    exit 1
fi

start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
# The package lists are read afresh unless another install script (such as
# tests/mediawiki/install-packages.sh, run just before this one by tests/run)
# did so in the last hour.
if ! find /var/lib/apt/lists -maxdepth 1 -name '*_Packages*' -mmin -60 2>/dev/null | grep -q .; then
    say "apt-get update"
    apt-get update -qq
fi
say "apt-get install ${PACKAGES[*]}"
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null

installed "${PACKAGES[@]}" || { say "ERROR: not every package got installed" >&2; exit 1; }
say "done in $(( $(date +%s) - start )) s: $(chromedriver --version | head -n1)"
