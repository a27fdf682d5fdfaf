-- wrk script of bench/haproxy.ts: a new client address in X-Real-IP with every
-- request, and a check of every response body against it.
--
--   wrk -s bench/_wrk_check.lua URL -- spoe    body must be "ip=A.B.C.D score=D"
--   wrk -s bench/_wrk_check.lua URL -- plain   body must be "ip=A.B.C.D score=" (no SPOE)
--
-- Prints "checked N mismatches M" (and the first mismatch) when done. wrk
-- calls response() per connection in any order, so the body itself echoes the
-- address it answers for (HAProxy's `req.hdr(x-real-ip)`), and the score must
-- be its last byte: a constant or stale answer fails.

local threads = {}
local next_id = 0

function setup(thread)
  thread:set("id", next_id)
  next_id = next_id + 1
  table.insert(threads, thread)
end

-- Globals, read back by done() through thread:get().
checked = 0
mismatches = 0
first = nil

local mode = "spoe"
local counter = 0

function init(args)
  mode = args[1] or "spoe"
  -- Threads start far apart so that their addresses differ.
  counter = (id or 0) * 1000003
end

function request()
  counter = counter + 1
  local n = counter
  local ip = string.format("10.%d.%d.%d", math.floor(n / 65536) % 256, math.floor(n / 256) % 256,
    n % 256)
  return wrk.format(nil, nil, { ["X-Real-IP"] = ip })
end

function response(status, headers, body)
  checked = checked + 1
  local last, score = string.match(body, "^ip=%d+%.%d+%.%d+%.(%d+) score=(%d*)\n$")
  local right
  if mode == "plain" then
    right = status == 200 and last ~= nil and score == ""
  else
    right = status == 200 and last ~= nil and score ~= "" and tonumber(score) == tonumber(last)
  end
  if not right then
    mismatches = mismatches + 1
    if first == nil then
      first = string.format("status %d body \"%s\"", status, (body:gsub("\n", "\\n")))
    end
  end
end

function done(summary, latency, requests)
  local total_checked, total_mismatches, first_seen = 0, 0, nil
  for _, thread in ipairs(threads) do
    total_checked = total_checked + thread:get("checked")
    total_mismatches = total_mismatches + thread:get("mismatches")
    first_seen = first_seen or thread:get("first")
  end
  io.write(string.format("checked %d mismatches %d\n", total_checked, total_mismatches))
  if first_seen then io.write("first mismatch: " .. first_seen .. "\n") end
end
