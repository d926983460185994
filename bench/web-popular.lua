-- wrk script for bench/web.sh with MIX=popular: searches drawn at random with Zipf
-- popularity (the k-th most popular is asked 1/k as often as the first) from a list of
-- several thousand different searches, as a crowd of readers would send them: a few skills
-- searched all the time, a long tail searched once. This is the mix that tells what the
-- web tool's search cache is worth; a cycled list of a hundred searches would make every
-- search a cache hit.
--
--   CAPX_PATHS=FILE [CAPX_DRAW=zipf|uniform] wrk -s bench/web-popular.lua URL -- PATH
--
-- FILE holds one query string per line, most popular first (bench/web.sh writes it from
-- the taxonomy: every skill, alone and with a list, a language or a region, pages 1 and 2,
-- shuffled with a fixed seed, after the cycled mix's own queries). Each request is
-- PATH?LINE, or PATH followed by LINE when PATH ends with "/": bench/web.sh also uses this
-- script for the profile pages, with PATH /profile/ and FILE the snapshot's user names
-- (URL-encoded, shuffled) drawn with CAPX_DRAW=uniform: every profile as likely as another.

local searches = {}
for line in io.lines(os.getenv("CAPX_PATHS")) do
  searches[#searches + 1] = line
end
local uniform = os.getenv("CAPX_DRAW") == "uniform"
local cumulative, total = {}, 0
for i = 1, #searches do
  total = total + (uniform and 1 or 1 / i)
  cumulative[i] = total
end

path = "/search"
threads = {}

function setup(thread)
  thread:set("id", #threads)
  table.insert(threads, thread)
end

local separator = "?"

function init(args)
  path = args[1] or path
  if path:sub(-1) == "/" then separator = "" end
  math.randomseed(1000 + (id or 0) * 7919)
end

function request()
  local r = math.random() * total
  local lo, hi = 1, #cumulative
  while lo < hi do
    local mid = math.floor((lo + hi) / 2)
    if cumulative[mid] < r then lo = mid + 1 else hi = mid end
  end
  return wrk.format("GET", path .. separator .. searches[lo])
end

function done(summary, latency, requests)
  local seconds = summary.duration / 1e6
  local errors = summary.errors
  io.write(string.format("RESULT requests=%d seconds=%.2f rps=%.1f p50_ms=%.2f p90_ms=%.2f p99_ms=%.2f max_ms=%.2f non2xx=%d socket_errors=%d\n",
    summary.requests, seconds, summary.requests / seconds,
    latency:percentile(50) / 1000, latency:percentile(90) / 1000,
    latency:percentile(99) / 1000, latency.max / 1000,
    errors.status, errors.connect + errors.read + errors.write + errors.timeout))
end
