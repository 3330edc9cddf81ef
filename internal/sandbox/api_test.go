package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jql"
	"github.com/jwh-cli/jwh/internal/webhookspec"
)

func TestWebhookLifecycle(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "jira", BasePath: "/jira"})

	f.api("POST", "/rest/api/2/webhook", `{"url":"`+hook+`","webhooks":[
		{"jqlFilter":"project = PRJ AND status = Done","events":["jira:issue_created","jira:issue_updated"],"fieldIdsFilter":["summary","customfield_10029"]},
		{"jqlFilter":"issuetype = Bug","events":["issue_property_set"],"issuePropertyKeysFilter":["my-prop"]}]}`).
		want(t, 200, `{"webhookRegistrationResult":[{"createdWebhookId":1000},{"createdWebhookId":1001}]}`)

	f.api("GET", "/rest/api/2/webhook", "").want(t, 200,
		`{"startAt":0,"maxResults":100,"total":2,"isLast":true,"values":[`+
			`{"id":1000,"jqlFilter":"project = PRJ AND status = Done","events":["jira:issue_created","jira:issue_updated"],"expirationDate":1561984950000,"fieldIdsFilter":["summary","customfield_10029"],"url":"`+hook+`"},`+
			`{"id":1001,"jqlFilter":"issuetype = Bug","events":["issue_property_set"],"expirationDate":1561984950000,"issuePropertyKeysFilter":["my-prop"],"url":"`+hook+`"}]}`)

	f.clock.Advance(31 * 24 * time.Hour)
	f.api("PUT", "/rest/api/2/webhook/refresh", `{"webhookIds":[1001]}`).
		want(t, 200, `{"expirationDate":1564663350000}`)
	ws := f.ten.Webhooks()
	if !ws[0].Expired(f.s.Now()) || ws[1].Expired(f.s.Now()) {
		t.Errorf("after 31 days and a refresh of 1001: expired = %v, %v; want true, false", ws[0].Expired(f.s.Now()), ws[1].Expired(f.s.Now()))
	}

	r := f.api("DELETE", "/rest/api/2/webhook", `{"webhookIds":[1000]}`)
	r.want(t, 202, "")
	if r.body != "" {
		t.Errorf("DELETE body %q, want none", r.body)
	}
	p := f.list("")
	if p.Total != 1 || len(p.Values) != 1 || p.Values[0].ID != 1001 {
		t.Errorf("after deleting 1000: %+v", p)
	}
	// The API's v3 paths are the same API.
	f.api("GET", "/rest/api/3/webhook", "").want(t, 200, "")
}

func TestExpirationAsString(t *testing.T) {
	f := start(t, Options{ExpirationAsString: true}, TenantConfig{Name: "acme"})
	f.register(webhooksBody(hook, 1))
	p := f.list("")
	if got := p.Values[0].ExpirationDate; got != "2019-07-01T12:42:30.000+0000" {
		t.Errorf("expirationDate %#v, want the string form", got)
	}
	f.api("PUT", "/rest/api/2/webhook/refresh", `{"webhookIds":[1000]}`).
		want(t, 200, `{"expirationDate":"2019-07-01T12:42:30.000+0000"}`)
}

func TestMyself(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "jira", BasePath: "/jira", AppKey: "my-app", ClientKey: "ck-1"})
	r := f.api("GET", "/rest/api/2/myself", "")
	r.want(t, 200, "")
	var u map[string]any
	if err := json.Unmarshal([]byte(r.body), &u); err != nil {
		t.Fatal(err)
	}
	id, _ := u["accountId"].(string)
	if len(id) != 24 || u["accountType"] != "app" || u["displayName"] != "my-app" || u["active"] != true ||
		u["self"] != f.ten.BaseURL()+"/rest/api/2/user?accountId="+id {
		t.Errorf("myself = %s", r.body)
	}
	if r.header.Get("Content-Type") != "application/json;charset=UTF-8" {
		t.Errorf("Content-Type %q", r.header.Get("Content-Type"))
	}
	// The Date header is the sandbox's clock, not this machine's.
	if got, want := r.header.Get("Date"), t0.Format(http.TimeFormat); got != want {
		t.Errorf("Date %q, want %q", got, want)
	}
}

func TestRegisterRefusals(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "acme"})

	reg := f.register(`{"url":"` + hook + `","webhooks":[
		{"jqlFilter":"project = PRJ","events":["jira:issue_created","jira:issue_exploded"]},
		{"jqlFilter":"project = PRJ","events":["comment_created"]},
		{"jqlFilter":"priority = High AND status IS EMPTY","events":["jira:issue_updated"]},
		{"jqlFilter":"project = PRJ","events":[]},
		{"events":["jira:issue_created"]},
		{"jqlFilter":"","events":["jira:issue_created"]}]}`)
	if len(reg.Results) != 6 {
		t.Fatalf("%d results, want 6", len(reg.Results))
	}
	wantErrs := [][]string{
		{"The event jira:issue_exploded is unsupported."},
		nil,
		{
			`Invalid jqlFilter at line 1, column 1: unsupported field "priority"`,
			`Invalid jqlFilter at line 1, column 28: unsupported operator "IS"`,
			"Invalid jqlFilter at line 1, column 31: EMPTY is not supported",
		},
		{"At least one event is required."},
		{"A jqlFilter is required."},
		{"Invalid jqlFilter at line 1, column 1: empty filter"},
	}
	for i, res := range reg.Results {
		if wantErrs[i] == nil {
			if res.CreatedWebhookID == nil || *res.CreatedWebhookID != 1000 || res.Errors != nil {
				t.Errorf("result %d = %+v, want createdWebhookId 1000", i, res)
			}
			continue
		}
		if res.CreatedWebhookID != nil || len(res.Errors) != len(wantErrs[i]) {
			t.Errorf("result %d = %+v, want errors %q", i, res, wantErrs[i])
			continue
		}
		for j, prefix := range wantErrs[i] {
			if !strings.HasPrefix(res.Errors[j], prefix) {
				t.Errorf("result %d error %d = %q, want prefix %q", i, j, res.Errors[j], prefix)
			}
		}
	}

	// A second callback URL is refused for every webhook, and the first one
	// stays the tenant's.
	other := "https://other.example.com/hook"
	reg = f.register(webhooksBody(other, 2))
	for i, res := range reg.Results {
		if res.CreatedWebhookID != nil || len(res.Errors) != 1 ||
			res.Errors[0] != "Only a single URL per app is allowed to be registered: this app's webhooks on this site deliver to "+hook+", not "+other+"." {
			t.Errorf("second URL, result %d = %+v", i, res)
		}
	}
	if f.ten.Callback() != hook {
		t.Errorf("Callback() = %q, want %q", f.ten.Callback(), hook)
	}

	// Up to 100 webhooks; the 101st is refused, in the same request.
	reg = f.register(webhooksBody(hook, 100))
	for i, res := range reg.Results {
		switch {
		case i < 99 && (res.CreatedWebhookID == nil || *res.CreatedWebhookID != int64(1001+i)):
			t.Errorf("webhook %d of 100: %+v, want id %d", i, res, 1001+i)
		case i == 99 && (res.CreatedWebhookID != nil || len(res.Errors) != 1 || !strings.Contains(res.Errors[0], "limit of 100 webhooks")):
			t.Errorf("webhook 101 on the tenant: %+v, want the limit error", res)
		}
	}
	if n := len(f.ten.Webhooks()); n != 100 {
		t.Errorf("%d webhooks, want 100", n)
	}

	// Once every webhook is gone, the app may choose another URL.
	var ids []string
	for _, w := range f.ten.Webhooks() {
		ids = append(ids, fmt.Sprint(w.ID))
	}
	f.api("DELETE", "/rest/api/2/webhook", `{"webhookIds":[`+strings.Join(ids, ",")+`]}`).want(t, 202, "")
	if f.ten.Callback() != "" {
		t.Errorf("Callback() = %q after deleting every webhook", f.ten.Callback())
	}
	if reg := f.register(webhooksBody(other, 1)); reg.Results[0].CreatedWebhookID == nil {
		t.Errorf("new URL after deleting everything: %+v", reg.Results[0])
	}
}

func TestMalformedRequests(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "acme"})
	for _, tc := range []struct {
		name, method, path, body string
		status                   int
		msg                      string
	}{
		{"not JSON", "POST", "/rest/api/2/webhook", `{"url":`, 400, "Invalid request payload."},
		{"trailing data", "POST", "/rest/api/2/webhook", webhooksBody(hook, 1) + `x`, 400, "Invalid request payload."},
		{"events not a list", "POST", "/rest/api/2/webhook", `{"url":"` + hook + `","webhooks":[{"jqlFilter":"project = P","events":"jira:issue_created"}]}`, 400, "Invalid request payload."},
		{"no url", "POST", "/rest/api/2/webhook", `{"webhooks":[{"jqlFilter":"project = P","events":["jira:issue_created"]}]}`, 400, "The url is required"},
		{"relative url", "POST", "/rest/api/2/webhook", webhooksBody("/hook", 1), 400, `The url "/hook" is not valid: not an absolute URL: give one such as https://app.example.com/hook.`},
		{"plain http to another host", "POST", "/rest/api/2/webhook", webhooksBody("http://app.example.com/hook", 1), 400,
			`The url "http://app.example.com/hook" is not valid: plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https.`},
		{"no webhooks", "POST", "/rest/api/2/webhook", `{"url":"` + hook + `","webhooks":[]}`, 400, "The webhooks list is required"},
		{"delete without ids", "DELETE", "/rest/api/2/webhook", `{}`, 400, "The webhookIds list is required."},
		{"refresh with strings", "PUT", "/rest/api/2/webhook/refresh", `{"webhookIds":["1000"]}`, 400, "Invalid request payload."},
		{"bad startAt", "GET", "/rest/api/2/webhook?startAt=-1", "", 400, "The value '-1' of the parameter startAt is invalid"},
		{"bad maxResults", "GET", "/rest/api/2/webhook?maxResults=ten", "", 400, "The value 'ten' of the parameter maxResults is invalid"},
		{"wrong method", "PUT", "/rest/api/2/webhook", `{}`, 405, "Method PUT is not allowed here: use DELETE, GET, POST."},
		{"wrong method on refresh", "POST", "/rest/api/2/webhook/refresh", `{}`, 405, "Method POST is not allowed here: use PUT."},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.api(tc.method, tc.path, tc.body)
			r.want(t, tc.status, "")
			if msgs := r.errorMessages(t); !strings.HasPrefix(msgs[0], tc.msg) {
				t.Errorf("errorMessages %q, want prefix %q", msgs, tc.msg)
			}
		})
	}
	if r := f.api("PUT", "/rest/api/2/webhook", `{}`); r.header.Get("Allow") != "DELETE, GET, POST" {
		t.Errorf("405 Allow %q", r.header.Get("Allow"))
	}
	if n := len(f.ten.Webhooks()); n != 0 {
		t.Errorf("malformed requests registered %d webhooks", n)
	}

	// A body must be sent as JSON, as Jira's REST resources require.
	req := f.signedRequest("POST", f.ten.BasePath()+"/rest/api/2/webhook", webhooksBody(hook, 1))
	req.Header.Set("Content-Type", "text/plain")
	resp, err := f.client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 415 {
		t.Errorf("text/plain body: status %d, want 415", resp.StatusCode)
	}
}

func TestPagination(t *testing.T) {
	f := start(t, Options{PageCap: 7}, TenantConfig{Name: "acme"})
	f.register(webhooksBody(hook, 23))

	var got []int64
	var sizes []int
	for startAt := 0; ; {
		p := f.list(fmt.Sprintf("?startAt=%d&maxResults=100", startAt))
		if p.StartAt != startAt || p.MaxResults != 7 || p.Total != 23 {
			t.Fatalf("page at %d: startAt %d maxResults %d total %d", startAt, p.StartAt, p.MaxResults, p.Total)
		}
		sizes = append(sizes, len(p.Values))
		for _, v := range p.Values {
			got = append(got, v.ID)
		}
		if p.IsLast {
			break
		}
		if len(p.Values) == 0 || len(sizes) > 10 {
			t.Fatalf("no progress at startAt %d", startAt)
		}
		startAt += len(p.Values)
	}
	if fmt.Sprint(sizes) != "[7 7 7 2]" {
		t.Errorf("page sizes %v, want [7 7 7 2]", sizes)
	}
	for i, id := range got {
		if id != int64(1000+i) {
			t.Fatalf("ids %v, want 1000..1022 in order", got)
		}
	}

	if p := f.list("?startAt=20&maxResults=2"); len(p.Values) != 2 || p.IsLast || p.MaxResults != 2 {
		t.Errorf("startAt 20, maxResults 2: %d values, isLast %v, maxResults %d", len(p.Values), p.IsLast, p.MaxResults)
	}
	if p := f.list("?startAt=50"); len(p.Values) != 0 || !p.IsLast || p.Total != 23 {
		t.Errorf("past the end: %+v", p)
	}
	if p := f.list("?maxResults=0"); len(p.Values) != 0 || p.IsLast {
		t.Errorf("maxResults 0: %+v", p)
	}
	// The default page cap is Jira's 100.
	g := start(t, Options{}, TenantConfig{Name: "acme"})
	g.register(webhooksBody(hook, 100))
	if p := g.list("?maxResults=1000"); len(p.Values) != 100 || p.MaxResults != 100 || !p.IsLast {
		t.Errorf("default cap: %d values, maxResults %d", len(p.Values), p.MaxResults)
	}
}

func TestUnknownIDsIgnored(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "acme"})
	f.register(webhooksBody(hook, 2))
	other, err := f.s.AddTenant(TenantConfig{Name: "other"})
	if err != nil {
		t.Fatal(err)
	}
	o := listenSigner(f, other)
	f.do(o, "POST", other.BasePath()+"/rest/api/2/webhook", webhooksBody(hook, 1)).
		want(t, 200, `{"webhookRegistrationResult":[{"createdWebhookId":1002}]}`)

	// 1002 belongs to another tenant; 5 and 99999 do not exist.
	f.clock.Advance(time.Hour)
	f.api("PUT", "/rest/api/2/webhook/refresh", `{"webhookIds":[5,1002,99999]}`).want(t, 200, "")
	f.api("DELETE", "/rest/api/2/webhook", `{"webhookIds":[5,1002,99999]}`).want(t, 202, "")
	f.api("DELETE", "/rest/api/2/webhook", `{"webhookIds":[]}`).want(t, 202, "")
	for _, w := range f.ten.Webhooks() {
		if !w.ExpiresAt.Equal(t0.Add(Lifetime)) {
			t.Errorf("webhook %d expires %v, want unchanged", w.ID, w.ExpiresAt)
		}
	}
	if n, m := len(f.ten.Webhooks()), len(other.Webhooks()); n != 2 || m != 1 {
		t.Errorf("%d and %d webhooks, want 2 and 1", n, m)
	}
	// Each tenant sees its own.
	if p := f.list(""); p.Total != 2 {
		t.Errorf("tenant acme lists %d webhooks", p.Total)
	}
}

// listenSigner returns a signer for another tenant on f's server and clock.
func listenSigner(f *fixture, ten *Tenant) *connectjwt.Signer {
	return signerFor(ten).WithClock(f.clock.Now)
}

func TestExpiryStaysListed(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "acme"})
	f.register(webhooksBody(hook, 1))
	f.clock.Advance(90 * 24 * time.Hour)
	p := f.list("")
	if len(p.Values) != 1 || p.Values[0].ExpirationDate != float64(1561984950000) {
		t.Fatalf("after 90 days: %+v", p)
	}
	w := f.ten.Webhooks()[0]
	if !w.Expired(f.s.Now()) || w.Expired(t0) {
		t.Errorf("Expired: at +90d %v, at registration %v", w.Expired(f.s.Now()), w.Expired(t0))
	}
	f.api("PUT", "/rest/api/2/webhook/refresh", `{"webhookIds":[1000]}`).want(t, 200, "")
	if w := f.ten.Webhooks()[0]; w.Expired(f.s.Now()) || !w.ExpiresAt.Equal(f.s.Now().Add(Lifetime)) {
		t.Errorf("refreshed webhook expires %v", w.ExpiresAt)
	}
}

// TestSetExpiration: webhooks made to expire at a chosen time are listed
// with it and kept in the state file; the others keep theirs.
func TestSetExpiration(t *testing.T) {
	path := filepath.Join(t.TempDir(), "sandbox.json")
	clock := newClock()
	s, err := Open(path, Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	ten, err := s.AddTenant(TenantConfig{Name: "acme"})
	if err != nil {
		t.Fatal(err)
	}
	f := listen(t, s, ten, clock)
	f.register(webhooksBody(hook, 3))
	expired := t0.Add(-time.Hour)
	if n, err := ten.SetExpiration(expired, 1000, 1002, 4242); err != nil || n != 2 {
		t.Fatalf("SetExpiration: %d, %v; want 2 changed", n, err)
	}
	p := f.list("")
	want := []any{float64(expired.UnixMilli()), float64(t0.Add(Lifetime).UnixMilli()), float64(expired.UnixMilli())}
	for i, v := range p.Values {
		if v.ExpirationDate != want[i] {
			t.Errorf("webhook %d expires %v, want %v", v.ID, v.ExpirationDate, want[i])
		}
	}
	if n, err := ten.SetExpiration(t0.Add(2 * 24 * time.Hour)); err != nil || n != 3 {
		t.Fatalf("SetExpiration of every webhook: %d, %v", n, err)
	}
	if err := f.run.Close(); err != nil {
		t.Fatal(err)
	}
	s.Close()
	s2, err := Open(path, Options{Clock: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	defer s2.Close()
	ten2, _ := s2.Tenant("acme")
	for _, w := range ten2.Webhooks() {
		if !w.ExpiresAt.Equal(t0.Add(2 * 24 * time.Hour)) {
			t.Errorf("after a restart, webhook %d expires %v", w.ID, w.ExpiresAt)
		}
	}
}

func TestWebhookFilter(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "acme"})
	f.register(`{"url":"` + hook + `","webhooks":[{"jqlFilter":"project = PRJ AND status != Done","events":["jira:issue_updated"]}]}`)
	w := f.ten.Webhooks()[0]
	if w.URL != hook || w.JQL != "project = PRJ AND status != Done" || w.Filter == nil {
		t.Fatalf("webhook %+v", w)
	}
	open := jql.Issue{Key: "PRJ-1", ProjectKey: "PRJ", StatusName: "In Progress"}
	done := jql.Issue{Key: "PRJ-2", ProjectKey: "PRJ", StatusName: "Done"}
	if !w.Filter.Match(open) || w.Filter.Match(done) {
		t.Errorf("Filter.Match: open %v, done %v; want true, false", w.Filter.Match(open), w.Filter.Match(done))
	}
	// Webhooks returns copies.
	w.Events[0] = "changed"
	if f.ten.Webhooks()[0].Events[0] != "jira:issue_updated" {
		t.Error("Webhooks shares its slices with the server")
	}
}

// TestCheckRoom: the limit on how many webhooks an owner may have is a
// parameter, so that OAuth 2.0 apps (5 per user) are held to theirs.
func TestCheckRoom(t *testing.T) {
	for _, tc := range []struct {
		n    int
		lim  webhookspec.Limits
		want bool // room for one more
	}{
		{0, webhookspec.Connect, true},
		{99, webhookspec.Connect, true},
		{100, webhookspec.Connect, false},
		{4, webhookspec.OAuth, true},
		{5, webhookspec.OAuth, false},
	} {
		got := checkRoom(tc.n, tc.lim)
		if (got == nil) != tc.want {
			t.Errorf("checkRoom(%d, %s) = %q, want room %v", tc.n, tc.lim.Owner, got, tc.want)
		}
		if got != nil && got[0] != fmt.Sprintf("The app has reached the limit of %d webhooks on this site: delete some before registering more.", tc.lim.MaxWebhooks) {
			t.Errorf("checkRoom(%d, %s) = %q", tc.n, tc.lim.Owner, got)
		}
	}
}
