package sandbox

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// With DropRate 1, every request to the API is dropped: no answer, a
// logged fault, and the request has taken effect exactly when the log says
// so.
func TestDroppedRequests(t *testing.T) {
	f := start(t, Options{DropRate: 1, Seed: 3}, TenantConfig{Name: "acme", BasePath: "/"})
	const n = 20
	for range n {
		req := f.signedRequest("POST", "/rest/api/2/webhook", webhooksBody(hook, 1))
		resp, err := f.client.Do(req)
		if err == nil {
			resp.Body.Close()
			t.Fatalf("answered %s, want the connection dropped", resp.Status)
		}
		if !errors.Is(err, io.EOF) && !strings.Contains(err.Error(), "connection reset") {
			t.Errorf("error %v, want EOF or a reset", err)
		}
	}
	log := f.s.Requests()
	if len(log) != n {
		t.Fatalf("%d requests logged, want %d", len(log), n)
	}
	took := 0
	for _, r := range log {
		if r.Fault != FaultDropped || r.Status != 0 || !r.Verified {
			t.Errorf("log entry %+v, want a verified request dropped without a status", r)
		}
		if r.TookEffect {
			took++
		}
	}
	if took == 0 || took == n {
		t.Errorf("%d of %d dropped registrations took effect, want some and not all", took, n)
	}
	if got := len(f.ten.Webhooks()); got != took {
		t.Errorf("%d webhooks registered, want %d (one per request that took effect)", got, took)
	}
}

// With DropRate 0.3, about that share of requests is dropped, the same
// ones for the same seed; the others are answered.
func TestDropRate(t *testing.T) {
	dropped := func(seed uint64) []bool {
		f := start(t, Options{DropRate: 0.3, Seed: seed}, TenantConfig{Name: "acme", BasePath: "/"})
		// A connection of its own for every request: net/http sends a GET
		// again by itself when a reused connection is dropped.
		f.client.Transport = &http.Transport{DisableKeepAlives: true}
		var out []bool
		for range 100 {
			req := f.signedRequest("GET", "/rest/api/2/webhook", "")
			resp, err := f.client.Do(req)
			if err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				if resp.StatusCode != 200 {
					t.Fatalf("status %d", resp.StatusCode)
				}
			}
			out = append(out, err != nil)
		}
		for i, r := range f.s.Requests() {
			if (r.Fault == FaultDropped) != out[i] {
				t.Fatalf("request %d: logged fault %q, client error %v", i, r.Fault, out[i])
			}
		}
		return out
	}
	a, b := dropped(9), dropped(9)
	n := 0
	for i := range a {
		if a[i] != b[i] {
			t.Fatalf("request %d: the same seed dropped different requests", i)
		}
		if a[i] {
			n++
		}
	}
	if n < 15 || n > 45 {
		t.Errorf("%d of 100 requests dropped at a rate of 0.3", n)
	}
}

// A hung request is held until the client gives up.
func TestHungRequest(t *testing.T) {
	f := start(t, Options{HangRate: 1}, TenantConfig{Name: "acme", BasePath: "/"})
	f.client.Timeout = 200 * time.Millisecond
	req := f.signedRequest("GET", "/rest/api/2/webhook", "")
	resp, err := f.client.Do(req)
	if err == nil {
		resp.Body.Close()
		t.Fatalf("answered %s, want no answer", resp.Status)
	}
	var ne interface{ Timeout() bool }
	if !errors.As(err, &ne) || !ne.Timeout() {
		t.Errorf("error %v, want the client's timeout", err)
	}
	log := f.s.Requests()
	if len(log) != 1 || log[0].Fault != FaultHung || log[0].Status != 0 {
		t.Errorf("log %+v", log)
	}
}

// Stopping the sandbox ends the requests it holds: Shutdown does not wait
// for them.
func TestShutdownReleasesHungRequests(t *testing.T) {
	logged := make(chan Request, 1)
	s := New(Options{HangRate: 1, OnRequest: func(r Request) { logged <- r }})
	ten, err := s.AddTenant(TenantConfig{Name: "acme", BasePath: "/"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := s.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	req, _ := http.NewRequest("PUT", run.URL()+"/rest/api/2/webhook/refresh", strings.NewReader(`{"webhookIds":[1]}`))
	if err := signerFor(ten).Authorize(req); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		resp, err := http.DefaultClient.Do(req) // no timeout: only the sandbox can end it
		if err == nil {
			resp.Body.Close()
		}
		done <- err
	}()
	if r := <-logged; r.Fault != FaultHung {
		t.Fatalf("logged %+v, want a hung request", r)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if err := run.Shutdown(ctx); err != nil {
		t.Errorf("Shutdown: %v (it waited for the hung request)", err)
	}
	if err := <-done; err == nil {
		t.Error("the hung request was answered")
	}
}

// The sandbox's own trigger endpoint is never dropped.
func TestTriggerNeverDropped(t *testing.T) {
	f := start(t, Options{DropRate: 1}, TenantConfig{Name: "acme", BasePath: "/"})
	f.api("POST", TriggerPath, `{"event":"jira:issue_created","waitSeconds":0}`).want(t, 200, "")
}

// SetFaults turns the faults on and off while the sandbox runs.
func TestSetFaults(t *testing.T) {
	f := start(t, Options{}, TenantConfig{Name: "acme", BasePath: "/"})
	f.client.Transport = &http.Transport{DisableKeepAlives: true}
	get := func() error {
		resp, err := f.client.Do(f.signedRequest("GET", "/rest/api/2/webhook", ""))
		if err == nil {
			resp.Body.Close()
		}
		return err
	}
	if err := get(); err != nil {
		t.Fatalf("no faults: %v", err)
	}
	f.s.SetFaults(1, 0)
	if err := get(); err == nil {
		t.Error("answered with a drop rate of 1")
	}
	f.s.SetFaults(0, 0)
	if err := get(); err != nil {
		t.Errorf("faults off again: %v", err)
	}
	if log := f.s.Requests(); len(log) != 3 || log[0].Fault != "" || log[1].Fault != FaultDropped || log[2].Fault != "" {
		t.Errorf("log %+v", log)
	}
}
