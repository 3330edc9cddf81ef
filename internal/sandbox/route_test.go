package sandbox

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestRoute pins which tenant serves a path: the one whose context path is
// the longest whole-segment prefix of it, else the tenant at the root.
func TestRoute(t *testing.T) {
	s := New(Options{})
	for _, c := range []TenantConfig{
		{Name: "root", BasePath: "/"},
		{Name: "jira", BasePath: "/jira"},
		{Name: "nested", BasePath: "/jira/x"},
		{Name: "a"}, // /t/a
	} {
		if _, err := s.AddTenant(c); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range []struct{ path, tenant, rest string }{
		{"/jira/rest/api/2/webhook", "jira", "/rest/api/2/webhook"},
		{"/jira", "jira", "/"},
		{"/jira/", "jira", "/"},
		{"/jira/x/rest/api/2/webhook", "nested", "/rest/api/2/webhook"},
		{"/jira/xy/rest", "jira", "/xy/rest"},
		{"/jiraX/rest", "root", "/jiraX/rest"},
		{"/t/a/rest/api/2/myself", "a", "/rest/api/2/myself"},
		{"/t/b/rest/api/2/myself", "root", "/t/b/rest/api/2/myself"},
		{"/rest/api/2/webhook", "root", "/rest/api/2/webhook"},
		{"/", "root", "/"},
		{"", "root", "/"},
	} {
		s.mu.Lock()
		got, rest := s.routeLocked(tt.path)
		s.mu.Unlock()
		if got == nil || got.name != tt.tenant || rest != tt.rest {
			t.Errorf("%q: routed to %v %q, want %s %q", tt.path, got, rest, tt.tenant, tt.rest)
		}
	}

	// Without a tenant at the root, other paths have none.
	s = New(Options{})
	if _, err := s.AddTenant(TenantConfig{Name: "jira", BasePath: "/jira"}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/", "/jiraX", "/rest/api/2/webhook", ""} {
		s.mu.Lock()
		got, _ := s.routeLocked(p)
		s.mu.Unlock()
		if got != nil {
			t.Errorf("%q: routed to %v, want none", p, got)
		}
	}
}

// TestRequestLogKeepsTheLast holds the request log to the most recent
// maxLogged requests, however many come.
func TestRequestLogKeepsTheLast(t *testing.T) {
	s := New(Options{})
	if _, err := s.AddTenant(TenantConfig{Name: "acme"}); err != nil {
		t.Fatal(err)
	}
	n := 2*maxLogged + maxLogged/2
	for i := range n {
		req := httptest.NewRequest(http.MethodGet, fmt.Sprintf("/t/acme/rest/api/2/myself?n=%d", i), nil)
		s.ServeHTTP(httptest.NewRecorder(), req) // 401: no JWT
		if i == maxLogged-1 || i == 2*maxLogged || i == n-1 {
			log := s.Requests()
			if want := min(i+1, maxLogged); len(log) != want {
				t.Fatalf("after %d requests the log holds %d, want %d", i+1, len(log), want)
			}
			first, last := fmt.Sprintf("n=%d", i+1-len(log)), fmt.Sprintf("n=%d", i)
			if log[0].RawQuery != first || log[len(log)-1].RawQuery != last {
				t.Fatalf("after %d requests the log runs from %s to %s, want %s to %s", i+1, log[0].RawQuery, log[len(log)-1].RawQuery, first, last)
			}
		}
	}
}
