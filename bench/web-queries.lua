-- wrk script for bench/web.sh: cycles through a mix of searches, as people would send them.
--
--   [CAPX_SERVER_TIMING=1] wrk -s bench/web-queries.lua URL -- PATH
--
-- PATH is /search (the HTML page) or /api/v1/search (JSON). Each wrk thread starts at a
-- different place in the list, so concurrent requests are different searches. The mix
-- (derived from the search benchmark and the labelled queries of exchange/tests/search_eval.rs):
-- skill words in several languages and scripts, typos, prefixes, several words, names and
-- places, skill filters (with and without a list), language, region, country, project and
-- format filters, browsing with filters and no words, page 2 and 3, and the page in other
-- interface languages. No query is repeated within the list.
--
-- With CAPX_SERVER_TIMING=1 in the environment, every response's Server-Timing header (the handler's own
-- time on the server, see webtool/src/pages/search.rs) is collected and its median and
-- percentiles printed at the end; this costs the client time, so it is only used for the
-- one-connection run.

local searches = {
  -- skill words, several languages and scripts
  "q=Lua", "q=Wikidata", "q=Fotograf%C3%ADa", "q=Traduction", "q=%C3%9Cbersetzung",
  "q=%D9%88%D8%AD%D8%AF%D8%A7%D8%AA%20%D9%84%D9%88%D8%A7",           -- وحدات لوا
  "q=%D9%88%D9%8A%D9%83%D9%8A%20%D8%A8%D9%8A%D8%A7%D9%86%D8%A7%D8%AA", -- ويكي بيانات
  "q=%D8%AC%D9%85%D8%B9%20%D8%A7%D9%84%D8%AA%D8%A8%D8%B1%D8%B9%D8%A7%D8%AA", -- جمع التبرعات
  "q=Mentoria", "q=Editatona", "q=SPARQL", "q=Fundraising", "q=Vorlagen", "q=Scribunto",
  "q=M%C3%B3dulos%20Lua", "q=Recaudaci%C3%B3n%20de%20fondos", "q=Collecte%20de%20fonds",
  "q=Capta%C3%A7%C3%A3o%20de%20recursos", "q=Organisation%20d%27%C3%A9v%C3%A9nements",
  "q=Veranstaltungsorganisation", "q=Photographie", "q=Gouvernance", "q=Buchhaltung",
  "q=%EC%9C%84%ED%82%A4%EB%B0%B1%EA%B3%BC",                           -- 위키백과
  -- typos and prefixes (the last word being typed)
  "q=wikidta", "q=fundrasing", "q=photografy", "q=transaltion", "q=mediaton", "q=Pywikibt",
  "q=wikid", "q=photog", "q=transl", "q=fundrai", "q=ment", "q=organiz", "q=modulos%20lu",
  -- several words, names and places
  "q=Lua%20Brazil", "q=Wikidata%20queries", "q=grant%20writing", "q=event%20organizing",
  "q=Commons%20uploads", "q=mentoring%20newcomers", "q=who%20can%20teach%20me%20Lua",
  "q=photographer%20Nepal", "q=edit-a-thons%20Nigeria", "q=Lua%20espa%C3%B1ol",
  "q=Theory%20of%20change", "q=offline%20wikipedia", "q=Kathmandu", "q=Montr%C3%A9al",
  "q=Wikimedia%20Deutschland", "q=fernandez",
  -- skill filters, with and without words
  "skill=wikidata", "skill=fundraising&kind=wants", "skill=lua-modules&kind=offers",
  "skill=translation&kind=offers&q=Fran%C3%A7ais", "skill=photography&region=SSA",
  "skill=editing-wikimedia-projects&region=ESEAP", "skill=wikidata&lang=pt",
  "q=translation&skill=communication&kind=offers",
  -- language, region, country, project and format facets
  "q=Lua&lang=pt-3", "q=Lua&lang=es-2", "q=mentoring&lang=ar-3", "q=Wikidata&region=SSA",
  "q=translation&region=MENA", "q=grant&country=NG", "q=event%20organizing&lang=es-2&region=LAC",
  "q=uploads&project=commons", "q=photography&format=workshop", "format=office-hours",
  "country=BR", "region=NA&lang=en-N", "lang=de-4",
  -- browsing and later pages
  "q=", "q=Wikipedia&offset=20", "q=translation&offset=40", "region=LAC&offset=20",
  "skill=technology&offset=20", "q=Wikidata&lang=fr-3&offset=20",
  -- other interface languages (the page; the API ignores uselang)
  "q=Lua&uselang=ar", "q=tradu%C3%A7%C3%A3o&uselang=pt", "q=%C3%A9dition&uselang=fr",
  "q=Vorlagen&uselang=de", "q=editat%C3%B3n&uselang=es",
}

local path = "/search"
local counter = 0
local threads = {}
server_ms = {}  -- global: done() reads it from each thread

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

function init(args)
  path = args[1] or path
  -- Spread the threads over the list.
  counter = (id or 0) * 37
end

function request()
  counter = counter + 1
  local query = searches[(counter % #searches) + 1]
  return wrk.format("GET", path .. "?" .. query)
end

-- wrk decides whether to parse response headers by whether response() exists once the
-- script is loaded (before init sees its arguments), so this switch is an environment
-- variable: the throughput runs pay nothing for it.
if os.getenv("CAPX_SERVER_TIMING") == "1" then
  response = function(status, headers, body)
    local value = headers["Server-Timing"] or headers["server-timing"]
    local dur = value and value:match("dur=([%d%.]+)")
    if dur then
      server_ms[#server_ms + 1] = tonumber(dur)
    end
  end
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
  local all = {}
  for _, thread in ipairs(threads) do
    local values = thread:get("server_ms")
    if type(values) == "table" then
      for _, v in ipairs(values) do all[#all + 1] = v end
    end
  end
  if #all > 0 then
    table.sort(all)
    local at = function(p) return all[math.max(1, math.ceil(#all * p / 100))] end
    io.write(string.format("SERVER samples=%d p50_ms=%.3f p90_ms=%.3f p99_ms=%.3f\n",
      #all, at(50), at(90), at(99)))
  end
end
