package main

import (
	"fmt"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/cmd/extend"
	"github.com/jwh-cli/jwh/internal/sandbox"
)

// BenchmarkExtendAllTenants measures jwh extend --all-tenants in-process
// against a sandbox that delays every response. Each tenant costs two
// round trips (list, refresh), so with c workers the floor is
// 2 × latency × ⌈tenants ÷ c⌉; floor-ms reports it and x-floor the
// measured time over it. concurrency=1 is the sequential loop to compare
// with. The secrets are in a memory store: no keyring cost (see
// BenchmarkExtendAllTenantsKeyring in internal/e2e for the real one).
//
//	go test ./cmd/jwh -run '^$' -bench ExtendAllTenants -benchtime 3x
func BenchmarkExtendAllTenants(b *testing.B) {
	for _, bc := range []struct {
		tenants, webhooks, concurrency int
		latency                        time.Duration
	}{
		{20, 10, extend.DefaultConcurrency, 20 * time.Millisecond},
		{200, 100, extend.DefaultConcurrency, 50 * time.Millisecond},
		{200, 100, 16, 50 * time.Millisecond},
		{200, 100, 1, 50 * time.Millisecond},
	} {
		name := fmt.Sprintf("tenants=%d/webhooks=%d/latency=%s/concurrency=%d", bc.tenants, bc.webhooks, bc.latency, bc.concurrency)
		b.Run(name, func(b *testing.B) {
			names := make([]string, bc.tenants)
			for i := range names {
				names[i] = fmt.Sprintf("t%03d", i)
			}
			w := newWorld(b, sandbox.Options{Latency: bc.latency}, names...)
			seedAll(b, w.srv, bc.webhooks)
			for b.Loop() {
				inv := w.invocation()
				if code := w.jwh(inv, "extend", "--all-tenants", "--quiet", "--concurrency", strconv.Itoa(bc.concurrency)); code != 0 {
					b.Fatalf("exit %d: %s", code, inv.errOut)
				}
			}
			rounds := (bc.tenants + bc.concurrency - 1) / bc.concurrency
			floor := 2 * bc.latency * time.Duration(rounds)
			perOp := b.Elapsed() / time.Duration(b.N)
			b.ReportMetric(float64(floor.Milliseconds()), "floor-ms")
			b.ReportMetric(float64(perOp)/float64(floor), "x-floor")
			b.ReportMetric(float64(perOp.Milliseconds()), "ms/op")
		})
	}
}

// seedAll registers n webhooks on every tenant of the sandbox, 16 tenants
// at a time.
func seedAll(b *testing.B, srv *sandbox.Server, n int) {
	b.Helper()
	tenants := srv.Tenants()
	errs := make([]error, len(tenants))
	var wg sync.WaitGroup
	sem := make(chan struct{}, 16)
	for i, t := range tenants {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			errs[i] = seed(t, n)
		}()
	}
	wg.Wait()
	for _, err := range errs {
		if err != nil {
			b.Fatal(err)
		}
	}
}
