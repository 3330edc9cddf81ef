-- wrk script for docs/performance.md: each request is a distinct Jira
-- delivery to / (a new X-Atlassian-Webhook-Identifier per request), with
-- the JWT in $TOKEN signed as Jira signs it (iss = the tenant's client key,
-- qsh = SHA-256 of "POST&/&").
--   TOKEN=... wrk -t1 -c32 -d5s --latency -s wrk-delivery.lua http://127.0.0.1:8080/
local token = os.getenv("TOKEN")
local body = '{"timestamp":1714000000123,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic","user":{"accountId":"5b10a2844c20165700ede21g","displayName":"Alice Smith"},"issue":{"id":"10002","key":"PRJ-1","fields":{"summary":"Fix the \\u00e9t\\u00e9 bug","status":{"name":"Done"}}},"matchedWebhookIds":[1000,1001]}'
local n = 0
local threads = 0

function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end

request = function()
  n = n + 1
  return wrk.format("POST", "/", {
    ["Content-Type"] = "application/json",
    ["Authorization"] = "JWT " .. token,
    ["X-Atlassian-Webhook-Identifier"] = os.time() .. "-" .. tostring(tid) .. "-" .. n,
  }, body)
end
