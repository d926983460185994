#!/usr/bin/env bash
# Fills fuzz/corpus/<target>/ with seed inputs from the repository: the profile pages of
# the search evaluation, the wiki pages of wiki/, the demo export (`indexer synth`) cut to
# a few pages, and every input kept as a regression under exchange/tests/fixtures/fuzz/.
#
#   fuzz/seed.sh            (then: cargo +nightly fuzz run <target> -- …, see the README)
set -euo pipefail
cd "$(dirname "$0")/.."
corpus=fuzz/corpus
mkdir -p "$corpus"/{template_extraction,profile_parsing,xml_import}
for target in template_extraction profile_parsing; do
    cp exchange/tests/fixtures/search-eval/*.wikitext wiki/*.wikitext "$corpus/$target/"
done
# Lines of a profile builder's form, as `fuzz_checks::profile_input` reads them.
printf 'Lua\tWikidata queries\ngrant writing\nWikidata\npt N\ten 3\nBR\nAmerica/Sao_Paulo\nWiki Movimento Brasil\npt.wikipedia\twikidata\nmentoring\tworkshop\ntalk\temail\n2 hours a month\nOrganizer of edit-a-thons in Recife.\n' \
    > "$corpus/profile_parsing/builder-form.txt"
printf '{{Capacity Exchange thanks|user=Ana Souza|skill=Lua|date=2026-01-02|note=Thanks!}}\n{{Capacity Exchange request|skill=Wikidata}}\n' \
    > "$corpus/profile_parsing/connections.wikitext"
# The demo export, cut after its first N pages.
demo=$(mktemp)
trap 'rm -f "$demo"' EXIT
gzip -dc webtool/demo/sample-export.xml.gz > "$demo"
for n in 3 8 20; do
    awk -v n="$n" '{ print } /<\/page>/ && ++pages == n { print "</mediawiki>"; exit }' \
        "$demo" > "$corpus/xml_import/synth-$n.xml"
done
# The export shapes of the tests: hidden text and author, an IP edit, a blanked page, a
# redirect, an alias of the template, character references.
cat > "$corpus/xml_import/shapes.xml" <<'XML'
<mediawiki xmlns="http://www.mediawiki.org/xml/export-0.11/" version="0.11" xml:lang="en">
<page><title>Template:CX</title><ns>10</ns><id>1</id><redirect title="Template:Capacity Exchange profile" /><revision><id>1</id><timestamp>2026-01-01T00:00:00Z</timestamp><contributor><username>Admin</username><id>1</id></contributor><text bytes="9" xml:space="preserve">#REDIRECT</text></revision></page>
<page><title>User:Ana Souza</title><ns>2</ns><id>2</id><revision><id>10</id><timestamp>2026-01-02T00:00:00Z</timestamp><contributor><username>Ana Souza</username><id>2</id></contributor><text xml:space="preserve">{{CX|offers = Lua; &lt;b&gt;x&lt;/b&gt; &amp; co &#x41;|languages=pt-N}}</text></revision><revision><id>11</id><timestamp>2026-01-03T00:00:00Z</timestamp><contributor><ip>192.0.2.1</ip></contributor><text xml:space="preserve">{{Capacity Exchange profile|offers=spam}}</text></revision></page>
<page><title>User:Bo/Profile</title><ns>2</ns><id>3</id><revision><id>20</id><timestamp>2026-01-02T00:00:00Z</timestamp><contributor deleted="deleted" /><text deleted="deleted" /></revision><revision><id>21</id><timestamp>2026-01-04T00:00:00Z</timestamp><contributor><username>Bo</username><id>3</id></contributor><text bytes="0" /></revision></page>
<page><title>User:Cy</title><ns>2</ns><id>4</id><redirect title="User:Bo" /><revision><id>30</id><timestamp>2026-01-02T00:00:00Z</timestamp><contributor><username>Cy</username><id>4</id></contributor><text xml:space="preserve"><![CDATA[{{Capacity Exchange profile|wants=Lua}}]]></text></revision></page>
</mediawiki>
XML
for target in template_extraction profile_parsing xml_import; do
    if [ -d "exchange/tests/fixtures/fuzz/$target" ]; then
        cp exchange/tests/fixtures/fuzz/"$target"/* "$corpus/$target/"
    fi
done
du -sh "$corpus"/*
