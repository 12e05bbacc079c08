-- The HTTP scenarios of bench/run.sh for wrk: one script, driven by the
-- environment, that cycles through a file of prepared requests and prints
-- its summary as one JSON line.
--
--   BENCH_REQUESTS=file wrk -t2 -c8 -d5s -s bench/wrk.lua http://127.0.0.1:2583
--
-- Each line of the file is one request, tab-separated:
--   METHOD <tab> PATH <tab> BEARER-TOKEN or "-" <tab> JSON BODY or "-"
-- Every wrk thread starts at a different line.  A body's "@SEQ@" becomes
-- "<run>-<thread>-<count>", new for each request and each run ($BENCH_RUN,
-- else the time in seconds), so that records written from one line are
-- not the same bytes over and over, nor again in the next run of the same
-- file (real ones never are: their createdAt differs).  Each request carries
-- x-ratelimit-bypass: $BENCH_RATELIMIT_BYPASS when that is set.  At the end a line
--   BENCHJSON {"requests":...,"bytes":...,"duration_us":...,"errors":{...},
--              "latency_us":{"p50":...,"p90":...,"p99":...,"max":...}}
-- goes to stdout; errors.status counts responses that were not 2xx/3xx.

local run = os.getenv("BENCH_RUN") or tostring(os.time())
local reqs = {}
local templ = {}		-- [i] = {method, path, headers, body} for "@SEQ@"
local idx = 1
local seq = 0
local threads = {}
local nthreads = 0

local function split(line)
	local f = {}
	for field in (line .. "\t"):gmatch("([^\t]*)\t") do
		f[#f + 1] = field
	end
	return f
end

function setup(thread)
	thread:set("id", nthreads)
	nthreads = nthreads + 1
	threads[#threads + 1] = thread
end

function init(args)
	local file = os.getenv("BENCH_REQUESTS")
	if file == nil then
		error("BENCH_REQUESTS is not set")
	end
	-- bench.mjs turns the servers' rate limits on and exempts us
	local bypass = os.getenv("BENCH_RATELIMIT_BYPASS")
	for line in io.lines(file) do
		if line ~= "" then
			local f = split(line)
			local headers = {}
			if bypass ~= nil and bypass ~= "" then
				headers["x-ratelimit-bypass"] = bypass
			end
			if f[3] ~= nil and f[3] ~= "-" then
				headers["Authorization"] = "Bearer " .. f[3]
			end
			local body = nil
			if f[4] ~= nil and f[4] ~= "-" then
				body = f[4]
				headers["Content-Type"] = "application/json"
			end
			reqs[#reqs + 1] = wrk.format(f[1], f[2], headers, body)
			if body ~= nil and body:find("@SEQ@", 1, true) then
				templ[#reqs] = { f[1], f[2], headers, body }
			end
		end
	end
	if #reqs == 0 then
		error("no requests in " .. file)
	end
	-- Spread the threads over the list.
	idx = (tonumber(id) or 0) * 7919 % #reqs + 1
end

function request()
	local r = reqs[idx]
	local t = templ[idx]
	idx = idx + 1
	if idx > #reqs then
		idx = 1
	end
	if t ~= nil then
		seq = seq + 1
		local body = t[4]:gsub("@SEQ@", run .. "-" ..
		    (tonumber(id) or 0) .. "-" .. seq)
		r = wrk.format(t[1], t[2], t[3], body)
	end
	return r
end

function done(summary, latency, requests)
	local e = summary.errors
	io.write(string.format(
	    'BENCHJSON {"requests":%d,"bytes":%d,"duration_us":%d,' ..
	    '"errors":{"connect":%d,"read":%d,"write":%d,"status":%d,' ..
	    '"timeout":%d},"latency_us":{"p50":%d,"p90":%d,"p99":%d,' ..
	    '"max":%d,"mean":%.1f}}\n',
	    summary.requests, summary.bytes, summary.duration,
	    e.connect, e.read, e.write, e.status, e.timeout,
	    latency:percentile(50), latency:percentile(90),
	    latency:percentile(99), latency.max, latency.mean))
end
