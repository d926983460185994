#!/usr/bin/env bash
# Check that the test wiki started by up.sh does what the end-to-end tests
# rely on, with plain HTTP requests (curl) to 127.0.0.1 and a few
# maintenance scripts:
#
#   - CapxBot@capx logs in with its bot password (action=login) and has
#     apihighlimits;
#   - the bot can edit User:CapxBot, and list=embeddedin lists that page at
#     once (link tables are updated in the edit's own request, no job needed);
#   - an anonymous visitor can create an account (action=createaccount);
#   - Admin logs in (action=clientlogin) and can block a user through the API;
#   - maintenance scripts work through maint.sh (blockUsers, deleteBatch).
#
# Prints "N passed, N failed" and exits non-zero if anything failed.
# shellcheck disable=SC2016  # PHP and bash snippets in single quotes are meant literally
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/common.sh"

[[ -f $MW_STATE/env.sh ]] || { echo "[smoke] no $MW_STATE/env.sh: run up.sh first" >&2; exit 1; }
# shellcheck source=/dev/null
source "$MW_STATE/env.sh"

passed=0
failed=0
ok() { echo "ok   $*"; passed=$(( passed + 1 )); }
bad() { echo "FAIL $*"; failed=$(( failed + 1 )); }
check() { # check LABEL ACTUAL EXPECTED
    if [[ $2 == "$3" ]]; then ok "$1"; else bad "$1: got '$2', want '$3'"; fi
}

jar_dir=$(mktemp -d)
trap 'rm -rf "$jar_dir"' EXIT

# api JAR [curl args...]: POST to the API with a cookie jar (a name under
# $jar_dir), format=json&formatversion=2 added.
api() {
    local jar=$jar_dir/$1
    shift
    curl -fsS --max-time 60 -b "$jar" -c "$jar" "$MW_API_URL" \
        --data-urlencode format=json --data-urlencode formatversion=2 "$@"
}
# jget PATH: read JSON on stdin, print the value at a dotted path
# ("query.tokens.logintoken"; arrays by index). Booleans print as 1/"".
jget() {
    php -r '
        $v = json_decode(stream_get_contents(STDIN), true);
        foreach (explode(".", $argv[1]) as $k) { $v = is_array($v) && array_key_exists($k, $v) ? $v[$k] : null; }
        echo is_array($v) ? json_encode($v, JSON_UNESCAPED_SLASHES | JSON_UNESCAPED_UNICODE) : (string)$v;' "$1"
}
token() { # token JAR TYPE
    api "$1" --data-urlencode action=query --data-urlencode meta=tokens \
        --data-urlencode "type=$2" | jget "query.tokens.${2}token"
}

# embeds TITLE: true if list=embeddedin (namespace 2) of the profile template
# lists TITLE, following continuation (a loaded export has thousands).
embeds() {
    local r next cont=()
    while :; do
        r=$(api bot --data-urlencode action=query --data-urlencode list=embeddedin \
            --data-urlencode "eititle=Template:Capacity Exchange profile" \
            --data-urlencode einamespace=2 --data-urlencode eilimit=max "${cont[@]}")
        [[ $(jget query.embeddedin <<<"$r") == *"\"title\":\"$1\""* ]] && return 0
        next=$(jget continue.eicontinue <<<"$r")
        [[ -n $next ]] || return 1
        cont=(--data-urlencode "eicontinue=$next")
    done
}

# --- The bot -----------------------------------------------------------------
t=$(token bot login)
r=$(api bot --data-urlencode action=login --data-urlencode "lgname=$CAPX_WIKI_USER" \
    --data-urlencode "lgpassword=$CAPX_WIKI_PASSWORD" --data-urlencode "lgtoken=$t")
check "bot login as $CAPX_WIKI_USER" "$(jget login.result <<<"$r")" Success

r=$(api bot --data-urlencode action=query --data-urlencode meta=userinfo \
    --data-urlencode 'uiprop=rights|groups')
check "bot is logged in as CapxBot" "$(jget query.userinfo.name <<<"$r")" CapxBot
rights=$(jget query.userinfo.rights <<<"$r")
if [[ $rights == *'"apihighlimits"'* ]]; then ok "bot has apihighlimits"; else bad "bot lacks apihighlimits: $rights"; fi

t=$(token bot csrf)
text=$'{{Capacity Exchange profile\n| offers = Lua; SPARQL\n| wants = Wikidata\n| languages = en-N, de-2\n| status = active\n}}\nA test profile.'
r=$(api bot --data-urlencode action=edit --data-urlencode title=User:CapxBot \
    --data-urlencode "text=$text" --data-urlencode summary=smoke --data-urlencode bot=1 \
    --data-urlencode "token=$t")
check "bot edits User:CapxBot" "$(jget edit.result <<<"$r")" Success

if embeds User:CapxBot; then
    ok "list=embeddedin lists User:CapxBot right after the edit"
else
    bad "list=embeddedin does not list User:CapxBot"
fi
r=$(api bot --data-urlencode action=query --data-urlencode list=embeddedin \
    --data-urlencode "eititle=Template:Capacity Exchange profile" --data-urlencode eilimit=max)
check "eilimit=max gives the bot the high limit" "$(jget limits.embeddedin <<<"$r")" 5000

r=$(api bot --data-urlencode action=query --data-urlencode prop=categories \
    --data-urlencode titles=User:CapxBot)
check "ParserFunctions: the template puts User:CapxBot in its category" \
    "$(jget query.pages.0.categories.0.title <<<"$r")" "Category:Capacity Exchange participants"

# --- An anonymous visitor creates an account -----------------------------------
new_user=Smoke$RANDOM$RANDOM
t=$(token anon createaccount)
r=$(api anon --data-urlencode action=createaccount --data-urlencode "username=$new_user" \
    --data-urlencode "password=pw-$new_user-x1" --data-urlencode "retype=pw-$new_user-x1" \
    --data-urlencode "createreturnurl=${MW_INDEX_URL%/index.php}/" --data-urlencode "createtoken=$t")
check "anonymous action=createaccount ($new_user)" "$(jget createaccount.status <<<"$r")" PASS

# --- Admin -----------------------------------------------------------------
t=$(token admin login)
r=$(api admin --data-urlencode action=clientlogin --data-urlencode "username=$MW_ADMIN_USER" \
    --data-urlencode "password=$MW_ADMIN_PASSWORD" --data-urlencode "logintoken=$t" \
    --data-urlencode "loginreturnurl=${MW_INDEX_URL%/index.php}/")
check "Admin action=clientlogin" "$(jget clientlogin.status <<<"$r")" PASS

t=$(token admin csrf)
r=$(api admin --data-urlencode action=block --data-urlencode "user=$new_user" \
    --data-urlencode expiry=infinite --data-urlencode reason=smoke --data-urlencode "token=$t")
check "Admin blocks $new_user through the API" "$(jget block.user <<<"$r")" "$new_user"
r=$(api anon --data-urlencode action=query --data-urlencode list=users \
    --data-urlencode "ususers=$new_user" --data-urlencode usprop=blockinfo)
check "list=users shows the block" "$(jget query.users.0.blockexpiry <<<"$r")" infinite

# --- Maintenance scripts ---------------------------------------------------------
if "$MW_TESTS_DIR/maint.sh" blockUsers --unblock --performer "$MW_ADMIN_USER" \
    --reason smoke <<<"$new_user" >/dev/null 2>&1; then
    r=$(api anon --data-urlencode action=query --data-urlencode list=users \
        --data-urlencode "ususers=$new_user" --data-urlencode usprop=blockinfo)
    check "maint.sh blockUsers --unblock" \
        "$(jget query.users.0.name <<<"$r")/$(jget query.users.0.blockid <<<"$r")" "$new_user/"
else
    bad "maint.sh blockUsers failed"
fi

if "$MW_TESTS_DIR/maint.sh" deleteBatch -u "$MW_ADMIN_USER" -r smoke <<<"User:CapxBot" >/dev/null 2>&1; then
    if ! embeds User:CapxBot; then
        ok "maint.sh deleteBatch: the deleted page leaves list=embeddedin"
    else
        bad "deleted User:CapxBot is still in list=embeddedin"
    fi
else
    bad "maint.sh deleteBatch failed"
fi

echo "$passed passed, $failed failed"
(( failed == 0 ))
