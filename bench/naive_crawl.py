#!/usr/bin/env python3
"""A naive crawler: what a simple bot script would do, to compare request counts with ours.

    bench/naive_crawl.py --api http://127.0.0.1:8186/api.php [--summary-json FILE]

1. Lists the pages that transclude Template:Capacity Exchange profile in the User namespace
   (list=embeddedin, einamespace=2, eilimit=max, following `continue`), anonymously, so
   500 titles a request.
2. Reads each page's current text with a request of its own
   (action=query&prop=revisions&titles=<one title>&rvprop=content|user&rvslots=main).

Politely: one request at a time, a User-Agent, maxlag=5 (waiting and asking again when the
wiki says it lags, as MediaWiki asks bots to). Every HTTP request is counted, retries
included. Prints (and with --summary-json writes) a JSON summary: requests, pages listed,
pages read, pages whose text calls the template, wall time in seconds.

Python 3 standard library only.
"""

import argparse
import json
import sys
import time
import urllib.error
import urllib.parse
import urllib.request

TEMPLATE = "Template:Capacity Exchange profile"
USER_AGENT = "CapacityExchangeNaiveCrawlBenchmark/1.0 (bench/naive_crawl.py; loopback only)"


class Api:
    """The MediaWiki API, one GET at a time, counting every HTTP request."""

    def __init__(self, url, attempts=5):
        self.url = url
        self.attempts = attempts
        self.requests = 0

    def get(self, **params):
        params.update(format="json", formatversion="2", maxlag="5")
        url = self.url + "?" + urllib.parse.urlencode(params)
        for attempt in range(1, self.attempts + 1):
            self.requests += 1
            try:
                request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
                with urllib.request.urlopen(request, timeout=60) as response:
                    answer = json.load(response)
            except (urllib.error.URLError, TimeoutError, json.JSONDecodeError) as error:
                if attempt == self.attempts:
                    raise
                print(f"retrying after {error}", file=sys.stderr)
                time.sleep(attempt)
                continue
            if answer.get("error", {}).get("code") == "maxlag" and attempt < self.attempts:
                time.sleep(5)
                continue
            if "error" in answer:
                raise RuntimeError(f"API error: {answer['error']}")
            return answer
        raise RuntimeError("unreachable")


def crawl(api):
    titles = []
    cont = {}
    while True:
        answer = api.get(action="query", list="embeddedin", eititle=TEMPLATE,
                         einamespace="2", eilimit="max", **cont)
        titles += [page["title"] for page in answer["query"]["embeddedin"]]
        if "continue" not in answer:
            break
        cont = answer["continue"]
    read = with_template = 0
    for title in titles:
        answer = api.get(action="query", prop="revisions", titles=title,
                         rvprop="content|user", rvslots="main")
        for page in answer["query"]["pages"]:
            for revision in page.get("revisions", []):
                read += 1
                text = revision.get("slots", {}).get("main", {}).get("content", "").lower()
                # The template or the synthetic export's alias (a rough check, as a bot's).
                if "{{capacity exchange profile" in text or "{{cx profile" in text:
                    with_template += 1
    return {"pages_listed": len(titles), "pages_read": read, "with_template": with_template}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--api", required=True, help="the wiki's api.php URL")
    parser.add_argument("--summary-json", help="also write the summary to this file")
    args = parser.parse_args()
    api = Api(args.api)
    started = time.monotonic()
    summary = crawl(api)
    summary = {"requests": api.requests, **summary,
               "seconds": round(time.monotonic() - started, 2)}
    text = json.dumps(summary)
    print(text)
    if args.summary_json:
        with open(args.summary_json, "w") as out:
            out.write(text + "\n")


if __name__ == "__main__":
    main()
