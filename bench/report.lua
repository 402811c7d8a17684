-- wrk: print latency percentiles and status counts as one JSON line at the end.
-- With AUTOSAVE set (a file of "url\tcookie\tcsrf\tbody" lines), POST each request to the
-- next open form of this thread (threads take disjoint halves, so no two in-flight requests
-- save the same application). Each POST changes one field, as a pause in typing does: the
-- quantity of line (n mod 10) takes the next value of a cycle, so every save writes.
local forms, index, counter, sent = {}, 0, 0, 0
local threads = {}

function setup(thread)
  counter = counter + 1
  thread:set("id", counter)
  table.insert(threads, thread)
end

function init(args)
  local path = os.getenv("AUTOSAVE")
  if path then
    local all = {}
    for line in io.lines(path) do
      local url, cookie, csrf, body = line:match("([^\t]*)\t([^\t]*)\t([^\t]*)\t(.*)")
      table.insert(all, {url = url, cookie = cookie, csrf = csrf, body = body})
    end
    local n = tonumber(os.getenv("WRK_THREADS") or "2")
    for i, f in ipairs(all) do
      if (i - 1) % n == (id - 1) then table.insert(forms, f) end
    end
  end
end

function request()
  if #forms == 0 then return wrk.format() end
  index = index % #forms + 1
  local f = forms[index]
  sent = sent + 1
  local line = sent % 10
  local body = f.body:gsub("lines%-" .. line .. "%-quantity=%d+", "lines-" .. line .. "-quantity=" .. (1 + sent % 97))
  return wrk.format("POST", f.url, {
    ["Cookie"] = "session=" .. f.cookie,
    ["HX-Request"] = "true",
    ["HX-Target"] = "save-status",
    ["X-CSRFToken"] = f.csrf,
    ["Content-Type"] = "application/x-www-form-urlencoded",
  }, body)
end

function done(summary, latency, requests)
  local e = summary.errors
  io.write(string.format(
    '{"requests": %d, "duration_us": %d, "bytes": %d, "p50_us": %d, "p95_us": %d, "p99_us": %d, ' ..
    '"non2xx": %d, "connect": %d, "read": %d, "write": %d, "timeout": %d}\n',
    summary.requests, summary.duration, summary.bytes, latency:percentile(50), latency:percentile(95),
    latency:percentile(99), e.status, e.connect, e.read, e.write, e.timeout))
end
