package sandbox

import (
	"encoding/json"
	"strings"
	"testing"
)

func TestTriggerEndpoint(t *testing.T) {
	rcv := newReceiver(t, 503, 200)
	// The endpoint is the sandbox's own: never throttled or denied.
	f := start(t, Options{RetryScale: fast, Leading429: 100}, TenantConfig{Name: "jira", BasePath: "/jira"})
	registerDirect(f, rcv.url("/hook"), "project = PRJ", "jira:issue_updated")

	r := f.api("POST", TriggerPath, `{"event":"jira:issue_updated","issue":{"key":"PRJ-3","fields":{"status":"Done"}},"changedFields":["status"]}`)
	r.want(t, 200, "")
	var res TriggerResult
	if err := json.Unmarshal([]byte(r.body), &res); err != nil {
		t.Fatal(err)
	}
	if !res.Complete || res.Event != "jira:issue_updated" || res.IssueKey != "PRJ-3" || len(res.MatchedWebhookIDs) != 1 ||
		len(res.Deliveries) != 1 || res.Deliveries[0].Outcome != OutcomeDelivered || len(res.Deliveries[0].Attempts) != 2 {
		t.Errorf("trigger answer %s", r.body)
	}
	// The raw answer has the documented field names.
	for _, field := range []string{`"matchedWebhookIds":[1000]`, `"skipped":[]`, `"webhookIds":[1000]`, `"identifier":"`,
		`"outcome":"delivered"`, `"attempts":[{"retry":0,`, `"status":503`, `"payload":{"timestamp":`, `"complete":true`} {
		if !strings.Contains(r.body, field) {
			t.Errorf("answer lacks %s: %s", field, r.body)
		}
	}

	f.api("GET", TriggerPath, "").want(t, 405, "")
	if msgs := f.api("POST", TriggerPath, `{"event":"issue_updated"}`).errorMessages(t); msgs[0] != `unknown event "issue_updated": did you mean "jira:issue_updated"?` {
		t.Errorf("unknown event: %q", msgs)
	}
	if msgs := f.api("POST", TriggerPath, `{"issue":{}}`).errorMessages(t); !strings.HasPrefix(msgs[0], "The event is required") {
		t.Errorf("no event: %q", msgs)
	}
	f.api("POST", TriggerPath, `{"event":"jira:issue_updated","waitSeconds":-1}`).want(t, 400, "")
	f.api("POST", TriggerPath, `[]`).want(t, 400, "")
	// Only the app, with the shared secret, may trigger.
	r = f.do(nil, "POST", f.ten.BasePath()+TriggerPath, `{"event":"jira:issue_updated"}`)
	r.want(t, 401, "")
	if n := len(rcv.requests()); n != 2 {
		t.Errorf("the receiver got %d requests, want the 2 of the first trigger", n)
	}
}

func TestTriggerEndpointAnswersBeforeTheRetriesEnd(t *testing.T) {
	rcv := newReceiver(t, 503)
	f := start(t, Options{RetryScale: 1}, TenantConfig{Name: "acme"}) // the first retry waits 10 s
	f.register(`{"url":"` + rcv.url("/hook") + `","webhooks":[{"jqlFilter":"project = SBX","events":["jira:issue_created"]}]}`)
	r := f.api("POST", TriggerPath, `{"event":"jira:issue_created","waitSeconds":0.2}`)
	r.want(t, 200, "")
	var res TriggerResult
	if err := json.Unmarshal([]byte(r.body), &res); err != nil {
		t.Fatal(err)
	}
	if res.Complete || res.Deliveries[0].Outcome != OutcomePending || len(res.Deliveries[0].Attempts) != 1 {
		t.Errorf("answer %s, want an incomplete result with one attempt", r.body)
	}
	if f.s.PendingDeliveries() != 1 {
		t.Errorf("PendingDeliveries() = %d", f.s.PendingDeliveries())
	}
	// The fixture's Close cancels it.
}

// registerDirect adds a webhook without a request, for a sandbox that
// throttles every request.
func registerDirect(f *fixture, url, jqlFilter, event string) {
	f.t.Helper()
	w, errs := checkWebhook([]string{event}, &jqlFilter, nil, nil)
	if errs != nil {
		f.t.Fatal(errs)
	}
	f.s.mu.Lock()
	defer f.s.mu.Unlock()
	w.ID, w.URL, w.ExpiresAt = f.s.nextID, url, f.s.now().Add(Lifetime)
	f.s.nextID++
	f.ten.webhooks = append(f.ten.webhooks, w)
	f.ten.callback = url
}
