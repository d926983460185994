#!/usr/bin/env bash
# Install Debian 12's MediaWiki 1.39 and the PHP it needs, for the end-to-end
# tests -- without Apache. The wiki is served by PHP's built-in web server
# (see up.sh), so no web server package is wanted.
#
# Debian's `mediawiki` package depends on `apache2 | httpd`. We satisfy that
# with an empty local package, built here with dpkg-deb, whose control file
# says `Provides: httpd`. (Debian's micro-httpd would also do, but it pulls
# in an inetd that starts a service.)
#
# Idempotent: if everything is already installed, it returns at once.
# Must run as root. Reaches only the Debian package mirrors.
set -euo pipefail

# PHP 8.2 is Debian 12's PHP. php8.2-cgi satisfies php8.2's dependency on
# `libapache2-mod-php8.2 | php8.2-fpm | php8.2-cgi` (so the Apache module is
# not chosen); the others are the extensions MediaWiki needs. lua5.1 is the
# interpreter of Debian's Scribunto (its LuaStandalone engine runs
# /usr/bin/lua5.1), which the profile template's Module:Capacity Exchange needs.
PACKAGES=(
    mediawiki
    php8.2-cli
    php8.2-cgi
    php8.2-sqlite3
    php8.2-mbstring
    php8.2-intl
    php8.2-xml
    lua5.1
)
FAKE_HTTPD=capx-fake-httpd

say() { printf '[install-packages] %s\n' "$*"; }

installed() {
    # True if every package named is fully installed.
    local pkg status
    for pkg in "$@"; do
        status=$(dpkg-query -W -f='${Status}' "$pkg" 2>/dev/null || true)
        [[ $status == "install ok installed" ]] || return 1
    done
}

if installed "${PACKAGES[@]}"; then
    say "MediaWiki and PHP are already installed; nothing to do."
    exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
    say "must run as root (it calls apt-get and dpkg)" >&2
    exit 1
fi

start=$(date +%s)
export DEBIAN_FRONTEND=noninteractive
had_apache=false
installed apache2 && had_apache=true

# 1. The empty package that provides `httpd`, unless Apache or another real
#    httpd is already there (then there is nothing to satisfy).
if ! installed "$FAKE_HTTPD" && ! installed apache2; then
    say "building and installing the empty '$FAKE_HTTPD' package (Provides: httpd)"
    build=$(mktemp -d)
    trap 'rm -rf "$build"' EXIT
    mkdir -p "$build/pkg/DEBIAN"
    cat > "$build/pkg/DEBIAN/control" <<CONTROL
Package: $FAKE_HTTPD
Version: 1.0
Architecture: all
Maintainer: Capacity Exchange tests <capx@localhost>
Provides: httpd
Section: misc
Priority: optional
Description: empty package that stands in for a web server
 Satisfies MediaWiki's dependency on "apache2 | httpd" for the Capacity
 Exchange end-to-end tests, which serve the wiki with PHP's built-in server.
CONTROL
    dpkg-deb --build --root-owner-group "$build/pkg" "$build/$FAKE_HTTPD.deb" >/dev/null
    dpkg -i "$build/$FAKE_HTTPD.deb" >/dev/null
fi

# 2. The packages themselves. Recommends are skipped: they would bring a
#    MySQL server, ImageMagick and more.
say "apt-get update"
apt-get update -qq
say "apt-get install ${PACKAGES[*]}"
apt-get install -y -qq --no-install-recommends "${PACKAGES[@]}" >/dev/null

# 3. Check that Apache did not come in anyway (unless it was already there,
#    which is not ours to change).
if ! $had_apache; then
    if installed apache2 || installed libapache2-mod-php8.2; then
        say "ERROR: apache2 got installed; it must not be" >&2
        exit 1
    fi
    if pgrep -x apache2 >/dev/null; then
        say "ERROR: an apache2 process is running" >&2
        exit 1
    fi
fi
installed "${PACKAGES[@]}" || { say "ERROR: not every package got installed" >&2; exit 1; }

say "done in $(( $(date +%s) - start )) s: $(php --version | head -n1);" \
    "MediaWiki $(dpkg-query -W -f='${Version}' mediawiki)"
