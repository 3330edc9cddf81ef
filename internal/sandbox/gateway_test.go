package sandbox

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestGatewayOwnership: each user of the OAuth app sees, refreshes and
// deletes only their own webhooks, has their own limit of 5, and neither
// sees the Connect app's webhooks nor the other way round.
func TestGatewayOwnership(t *testing.T) {
	f := startOAuth(t, Options{})
	alice, bob := f.login("alice", allScopes).AccessToken, f.login("bob", allScopes).AccessToken

	ids, refused := f.gwRegister(alice, webhooksBody(hook, 4)).created()
	if len(ids) != 4 || refused != 0 {
		t.Fatalf("alice's first 4: %v, %d refused", ids, refused)
	}
	// Bob fills his 5 while alice has 4.
	bobIDs, refused := f.gwRegister(bob, webhooksBody(hook, 5)).created()
	if len(bobIDs) != 5 || refused != 0 {
		t.Fatalf("bob's 5: %v, %d refused", bobIDs, refused)
	}
	// Alice's fifth is made, her sixth refused, per webhook, in a 200.
	reg := f.gwRegister(alice, webhooksBody(hook, 2))
	more, refused := reg.created()
	if len(more) != 1 || refused != 1 || reg.Results[0].CreatedWebhookID == nil {
		t.Fatalf("alice's 5th and 6th: %+v", reg)
	}
	if msg := strings.Join(reg.Results[1].Errors, " "); !strings.Contains(msg, "The app has reached the limit of 5 webhooks on this site") {
		t.Errorf("refusal %q", msg)
	}
	ids = append(ids, more...)
	if got := f.gwList(alice).ids(); !slices.Equal(got, ids) {
		t.Errorf("alice lists %v, want %v", got, ids)
	}
	if got := f.gwList(bob).ids(); !slices.Equal(got, bobIDs) {
		t.Errorf("bob lists %v, want %v", got, bobIDs)
	}
	// The Connect app sees none of them, the OAuth app none of its.
	f.register(webhooksBody(hook, 1))
	if p := f.list(""); p.Total != 1 {
		t.Errorf("the Connect app lists %d webhooks, want its 1", p.Total)
	}
	if n := len(f.ten.OAuthWebhooks()); n != 10 {
		t.Errorf("OAuthWebhooks: %d, want 10", n)
	}

	// Bob can neither refresh nor delete alice's.
	f.clock.Advance(30 * time.Minute)
	body := fmt.Sprintf(`{"webhookIds":[%d,%d]}`, ids[0], bobIDs[0])
	f.gw(bob, "PUT", "cloud-acme", "/rest/api/2/webhook/refresh", body).want(t, 200, "")
	for _, w := range f.ten.OAuthWebhooks() {
		refreshed := !w.ExpiresAt.Equal(t0.Add(Lifetime))
		if refreshed != (w.ID == bobIDs[0]) {
			t.Errorf("webhook %d of %s: expires %v", w.ID, w.User, w.ExpiresAt)
		}
	}
	f.gw(bob, "DELETE", "cloud-acme", "/rest/api/2/webhook", body).want(t, 202, "")
	if got := f.gwList(alice).ids(); !slices.Equal(got, ids) {
		t.Errorf("after bob's delete alice lists %v, want %v", got, ids)
	}
	if got := f.gwList(bob).ids(); !slices.Equal(got, bobIDs[1:]) {
		t.Errorf("after bob's delete bob lists %v, want %v", got, bobIDs[1:])
	}
	// Having deleted one, bob may register one more.
	if ids, _ := f.gwRegister(bob, webhooksBody(hook, 1)).created(); len(ids) != 1 {
		t.Errorf("bob's registration after a delete: %v", ids)
	}
	// The other site is separate.
	r := f.gw(alice, "GET", "cloud-beta", "/rest/api/3/webhook", "")
	r.want(t, 200, "")
	if !strings.Contains(r.body, `"total":0`) {
		t.Errorf("alice on beta: %s", r.body)
	}
}

func TestGatewayOneURL(t *testing.T) {
	f := startOAuth(t, Options{})
	alice, bob := f.login("alice", allScopes).AccessToken, f.login("bob", allScopes).AccessToken
	f.gwRegister(alice, webhooksBody(hook, 1))
	reg := f.gwRegister(bob, webhooksBody("https://other.example.com/hook", 1))
	if _, refused := reg.created(); refused != 1 || !strings.Contains(reg.Results[0].Errors[0], "Only a single URL per app") {
		t.Errorf("a second URL: %+v", reg)
	}
	// A webhook the checks refuse is refused per webhook too.
	reg = f.gwRegister(bob, `{"url":"`+hook+`","webhooks":[{"jqlFilter":"priority = High","events":["jira:issue_created"]}]}`)
	if _, refused := reg.created(); refused != 1 || !strings.Contains(reg.Results[0].Errors[0], "Invalid jqlFilter") {
		t.Errorf("a bad filter: %+v", reg)
	}
	// Bad bodies as on the Connect side.
	f.gw(bob, "POST", "cloud-acme", "/rest/api/2/webhook", `{"webhooks":[]}`).want(t, 400, "")
}

func TestGatewayRefusals(t *testing.T) {
	f := startOAuth(t, Options{})
	full := f.login("alice", allScopes)
	readOnly := f.login("alice", "read:jira-work offline_access").AccessToken
	granularRead := f.login("alice", "read:webhook:jira").AccessToken
	revoked := f.login("carol", allScopes).AccessToken
	if _, err := f.s.Revoke("carol"); err != nil {
		t.Fatal(err)
	}
	const unauthorized = `{"code":401,"message":"Unauthorized"}`
	const scope = `{"code":401,"message":"Unauthorized; scope does not match"}`
	for _, tc := range []struct {
		name, token, method, cloud, path, body string
		status                                 int
		want, reason                           string
	}{
		{"no token", "", "GET", "cloud-acme", "/rest/api/2/webhook", "", 401, unauthorized, "no Authorization header"},
		{"unknown token", "made-up", "GET", "cloud-acme", "/rest/api/2/webhook", "", 401, unauthorized, "unknown access token"},
		{"revoked token", revoked, "GET", "cloud-acme", "/rest/api/2/webhook", "", 401, unauthorized, "access token revoked"},
		{"refresh token", full.RefreshToken, "GET", "cloud-acme", "/rest/api/2/webhook", "", 401, unauthorized, "unknown access token"},
		{"no webhook scope", readOnly, "GET", "cloud-acme", "/rest/api/2/webhook", "", 401, scope,
			"scope does not match: GET /rest/api/2/webhook needs manage:jira-webhook or read:webhook:jira; the token has read:jira-work offline_access"},
		{"granular read may not register", granularRead, "POST", "cloud-acme", "/rest/api/2/webhook", webhooksBody(hook, 1), 401, scope,
			"scope does not match: POST /rest/api/2/webhook needs manage:jira-webhook or write:webhook:jira"},
		{"granular read may not delete", granularRead, "DELETE", "cloud-acme", "/rest/api/2/webhook", `{"webhookIds":[1]}`, 401, scope, "delete:webhook:jira"},
		{"granular read may list", granularRead, "GET", "cloud-acme", "/rest/api/2/webhook", "", 200, "", ""},
		{"failed is for Connect apps", full.AccessToken, "GET", "cloud-acme", "/rest/api/2/webhook/failed", "", 403,
			`{"errorMessages":["Only Connect apps can use this operation."],"errors":{}}`, ""},
		{"unknown site", full.AccessToken, "GET", "no-such-cloud", "/rest/api/2/webhook", "", 404, "", ""},
		{"unknown path", full.AccessToken, "GET", "cloud-acme", "/rest/api/2/search", "", 404, "", ""},
		{"method", full.AccessToken, "PATCH", "cloud-acme", "/rest/api/2/webhook", "", 405, "", ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := f.gw(tc.token, tc.method, "cloud-acme", tc.path, tc.body)
			if tc.cloud != "cloud-acme" {
				r = f.gw(tc.token, tc.method, tc.cloud, tc.path, tc.body)
			}
			r.want(t, tc.status, tc.want)
			rec := f.lastRequest()
			if !strings.Contains(rec.Reason, tc.reason) || rec.Kind != KindOAuth {
				t.Errorf("logged %+v, want the reason %q", rec, tc.reason)
			}
			if tc.status == 401 && (rec.Verified || r.header.Get("Www-Authenticate") == "") {
				t.Errorf("401 logged as verified, or without WWW-Authenticate: %+v %v", rec, r.header)
			}
		})
	}
	// A Connect JWT is no access token.
	req := f.signedRequest("GET", GatewayPath+"cloud-acme/rest/api/2/webhook", "")
	f.send(req).want(t, 401, unauthorized)
	if rec := f.lastRequest(); !strings.Contains(rec.Reason, "a Connect JWT where an OAuth access token is needed") {
		t.Errorf("reason %q", rec.Reason)
	}
}

func TestGatewayMyself(t *testing.T) {
	f := startOAuth(t, Options{})
	tk := f.login("erin", "read:jira-work")
	r := f.gw(tk.AccessToken, "GET", "cloud-beta", "/rest/api/3/myself", "")
	r.want(t, 200, "")
	var me struct{ AccountID, AccountType, DisplayName, Self string }
	if err := json.Unmarshal([]byte(r.body), &me); err != nil {
		t.Fatal(err)
	}
	beta, _ := f.s.Tenant("beta")
	if me.AccountID != AccountID("erin") || me.AccountType != "atlassian" || me.DisplayName != "erin" || !strings.HasPrefix(me.Self, beta.BaseURL()) {
		t.Errorf("myself %+v", me)
	}
	if rec := f.lastRequest(); rec.Tenant != "beta" || rec.User != "erin" || !rec.Verified {
		t.Errorf("logged %+v", rec)
	}
	if len(AccountID("erin")) != 24 || AccountID("erin") == AccountID("alice") {
		t.Errorf("AccountID %q", AccountID("erin"))
	}
}

// TestGatewayFaults: throttling and denial apply to the gateway as to the
// Connect API; the trigger endpoint escapes them there too.
func TestGatewayFaults(t *testing.T) {
	f := startOAuth(t, Options{Leading429: 1})
	tk := f.login("alice", allScopes).AccessToken
	f.gw(tk, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 429, "")
	f.gw(tk, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 200, "")
	f.ten.Deny(http.StatusUnauthorized)
	f.gw(tk, "GET", "cloud-acme", "/rest/api/2/webhook", "").want(t, 401, "")
	r := f.gw(tk, "POST", "cloud-acme", TriggerPath, `{"event":"jira:issue_created","waitSeconds":1}`)
	r.want(t, 200, "")
	f.ten.Deny(0)
	f.s.SetFaults(1, 0)
	req := mustRequest(t, "GET", f.run.URL()+GatewayPath+"cloud-acme/rest/api/2/webhook")
	req.Header.Set("Authorization", "Bearer "+tk)
	if resp, err := f.client.Do(req); err == nil {
		resp.Body.Close()
		t.Errorf("a dropped request was answered %s", resp.Status)
	}
	if rec := f.lastRequest(); rec.Fault != FaultDropped || rec.Kind != KindOAuth {
		t.Errorf("logged %+v", rec)
	}
}

// bearerClaims verifies a delivery's Bearer JWT as a receiver would and
// returns its claims.
func bearerClaims(t *testing.T, header http.Header, secret string) jwt.MapClaims {
	t.Helper()
	tok, ok := strings.CutPrefix(header.Get("Authorization"), "Bearer ")
	if !ok {
		t.Fatalf("Authorization %q is not Bearer", header.Get("Authorization"))
	}
	claims := jwt.MapClaims{}
	parsed, err := jwt.ParseWithClaims(tok, claims, func(*jwt.Token) (any, error) { return []byte(secret), nil },
		jwt.WithValidMethods([]string{"HS256"}), jwt.WithTimeFunc(func() time.Time { return t0 }), jwt.WithIssuedAt())
	if err != nil {
		t.Fatalf("the Bearer JWT does not verify: %v", err)
	}
	if parsed.Header["alg"] != "HS256" || parsed.Header["typ"] != "JWT" {
		t.Errorf("JWT header %v", parsed.Header)
	}
	return claims
}

func TestBearerDeliveries(t *testing.T) {
	f := startOAuth(t, Options{})
	rcv := newReceiver(t)
	alice, bob := f.login("alice", allScopes).AccessToken, f.login("bob", allScopes).AccessToken
	connectIDs, _ := f.register(webhooksBody(rcv.url("/connect"), 1)).created()
	aliceIDs, _ := f.gwRegister(alice, webhooksBody(rcv.url("/oauth"), 2)).created()
	bobIDs, _ := f.gwRegister(bob, `{"url":"`+rcv.url("/oauth")+`","webhooks":[
		{"jqlFilter":"project = OPS","events":["jira:issue_created"]},
		{"jqlFilter":"project = PRJ","events":["jira:issue_created"]}]}`).created()

	res := f.trigger(Event{Name: "jira:issue_created", Issue: Issue{Key: "PRJ-1"}})
	want := []int64{connectIDs[0], aliceIDs[0], aliceIDs[1], bobIDs[1]}
	if !slices.Equal(res.MatchedWebhookIDs, want) || len(res.Skipped) != 1 || res.Skipped[0].WebhookID != bobIDs[0] {
		t.Fatalf("matched %v skipped %+v, want %v and %d", res.MatchedWebhookIDs, res.Skipped, want, bobIDs[0])
	}
	if len(res.Deliveries) != 3 {
		t.Fatalf("%d deliveries, want one to the Connect app and one per owner of the OAuth app's: %+v", len(res.Deliveries), res.Deliveries)
	}
	byOwner := map[string]DeliveryResult{}
	for _, d := range res.Deliveries {
		if d.Outcome != OutcomeDelivered {
			t.Errorf("delivery %+v", d)
		}
		byOwner[d.App+"/"+d.AccountID] = d
	}
	if d := byOwner["connect/"]; !slices.Equal(d.WebhookIDs, connectIDs) {
		t.Errorf("Connect delivery %+v", d)
	}
	if d := byOwner["oauth/"+AccountID("alice")]; !slices.Equal(d.WebhookIDs, aliceIDs) {
		t.Errorf("alice's delivery %+v", d)
	}
	if d := byOwner["oauth/"+AccountID("bob")]; !slices.Equal(d.WebhookIDs, bobIDs[1:]) {
		t.Errorf("bob's delivery %+v", d)
	}

	got := rcv.requests()
	if len(got) != 3 {
		t.Fatalf("the receiver got %d requests, want 3", len(got))
	}
	owners := map[string]bool{}
	for _, req := range got {
		if req.path == "/connect" {
			if !strings.HasPrefix(req.header.Get("Authorization"), "JWT ") {
				t.Errorf("Connect delivery with %q", req.header.Get("Authorization"))
			}
			continue
		}
		c := bearerClaims(t, req.header, testClientSecret)
		sub, _ := c["sub"].(string)
		owners[sub] = true
		iat, _ := c["iat"].(float64)
		exp, _ := c["exp"].(float64)
		ctx, _ := c["context"].(map[string]any)
		if c["iss"] != "jira:cloud-acme" || c["aud"] != testClientID || int64(iat) != t0.Unix() || int64(exp) != t0.Add(3*time.Minute).Unix() ||
			ctx["cloudId"] != "cloud-acme" || len(c) != 6 {
			t.Errorf("claims %v", c)
		}
		if req.header.Get(HeaderIdentifier) == "" || req.header.Get("User-Agent") != UserAgent {
			t.Errorf("headers %v", req.header)
		}
		var payload struct{ MatchedWebhookIDs []int64 }
		if err := json.Unmarshal(req.body, &payload); err != nil {
			t.Fatal(err)
		}
		if want := byOwner["oauth/"+sub].WebhookIDs; !slices.Equal(payload.MatchedWebhookIDs, want) {
			t.Errorf("%s's payload matched %v, want %v", sub, payload.MatchedWebhookIDs, want)
		}
	}
	if !owners[AccountID("alice")] || !owners[AccountID("bob")] {
		t.Errorf("owners %v", owners)
	}
	// A wrong secret does not verify: the signature is the client secret's.
	for _, req := range got {
		if req.path == "/oauth" {
			tok := strings.TrimPrefix(req.header.Get("Authorization"), "Bearer ")
			if _, err := jwt.Parse(tok, func(*jwt.Token) (any, error) { return []byte("other"), nil }, jwt.WithTimeFunc(func() time.Time { return t0 })); err == nil {
				t.Error("the Bearer JWT verifies with another secret")
			}
		}
	}
}

// TestBearerDeliveryFailure: a delivery to the OAuth app that fails for
// good is retried with the same identifier, freshly signed, and kept
// apart from the Connect app's failures.
func TestBearerDeliveryFailure(t *testing.T) {
	f := startOAuth(t, Options{})
	rcv := newReceiver(t, 503)
	alice := f.login("alice", allScopes).AccessToken
	f.gwRegister(alice, webhooksBody(rcv.url("/oauth"), 1))
	res := f.trigger(Event{Name: "jira:issue_created", Issue: Issue{Key: "PRJ-1"}})
	d := res.Deliveries[0]
	if d.Outcome != OutcomeFailed || len(d.Attempts) != MaxRetries+1 || d.App != KindOAuth {
		t.Fatalf("delivery %+v", d)
	}
	got := rcv.requests()
	for i, req := range got {
		if req.header.Get(HeaderIdentifier) != d.Identifier || (i > 0) != (req.header.Get(HeaderRetry) == fmt.Sprint(i)) {
			t.Errorf("attempt %d: headers %v", i, req.header)
		}
		bearerClaims(t, req.header, testClientSecret)
	}
	if failed := f.ten.OAuthFailedDeliveries(); len(failed) != 1 || failed[0].ID != d.Identifier {
		t.Errorf("OAuthFailedDeliveries %+v", failed)
	}
	if connect := f.failedList(); len(connect) != 0 {
		t.Errorf("the Connect app lists the OAuth app's failure: %+v", connect)
	}
}
