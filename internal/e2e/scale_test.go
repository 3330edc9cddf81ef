//go:build keyring

package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// BenchmarkExtendAllTenantsKeyring measures jwh extend --all-tenants at an
// app vendor's scale, as cron runs it: the real binary, 2,000 tenants with
// 100 webhooks each on a sandbox that answers every request after 50 ms,
// and each tenant's shared secret in the real Secret Service
// (gnome-keyring). Beside it, in the same rounds, runs jwhmem
// (testdata/jwhmem): the same command with a store that answers at once,
// which is the cost of everything but the keyring. Each round runs both
// at --concurrency 8 and 32, alternating which goes first; the table gives
// the medians against the floor, one list and one refresh per tenant:
// ⌈tenants ÷ concurrency⌉ × 2 × latency. It counts the calls that reach
// the Secret Service during each jwh run, too.
//
//	env -u DISPLAY dbus-run-session -- sh ../shared/tools/with-keyring.sh \
//	    go test -tags keyring -run '^$' -bench ExtendAllTenantsKeyring -benchtime 3x -timeout 60m ./internal/e2e
//
// Storing 2,000 secrets takes gnome-keyring a few minutes before the first
// round (it rewrites its file for every item), and removing them as long
// after the last. $JWH_SCALE_TENANTS, $JWH_SCALE_WEBHOOKS and
// $JWH_SCALE_LATENCY change the scale; $JWH_SCALE_BIN names another jwh
// to measure (another commit's, built as releases are) in place of this
// tree's.
func BenchmarkExtendAllTenantsKeyring(b *testing.B) {
	requireSecretService(b)
	n := envInt(b, "JWH_SCALE_TENANTS", 2000)
	webhooks := envInt(b, "JWH_SCALE_WEBHOOKS", 100)
	latency := 50 * time.Millisecond
	if v := os.Getenv("JWH_SCALE_LATENCY"); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil {
			b.Fatalf("JWH_SCALE_LATENCY: %v", err)
		}
		latency = d
	}
	concurrencies := []int{8, 32}

	dir := b.TempDir()
	jwh := os.Getenv("JWH_SCALE_BIN")
	if jwh == "" {
		jwh = buildRelease(b, dir, "jwh", "./cmd/jwh")
	}
	jwhmem := buildRelease(b, dir, "jwhmem", "./internal/e2e/testdata/jwhmem")

	var served atomic.Int64
	sb := sandbox.New(sandbox.Options{Latency: latency, OnRequest: func(sandbox.Request) { served.Add(1) }})
	prefix := fmt.Sprintf("scale-%d-", time.Now().UnixNano())
	names := make([]string, n)
	for i := range names {
		names[i] = fmt.Sprintf("%s%04d", prefix, i)
		if _, err := sb.AddTenant(sandbox.TenantConfig{Name: names[i], AppKey: appKey}); err != nil {
			b.Fatal(err)
		}
	}
	running, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { running.Close() })
	start := time.Now()
	forEach(b, sb.Tenants(), 64, func(t *sandbox.Tenant) error { return register(t, webhooks) })
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	b.Logf("sandbox: %d tenants × %d webhooks registered in %s; heap in use %d MiB", n, webhooks, time.Since(start).Round(time.Millisecond), ms.HeapInuse>>20)

	config := filepath.Join(dir, "config.json")
	cfg, err := tenant.LoadConfig(config)
	if err != nil {
		b.Fatal(err)
	}
	err = cfg.Update(context.Background(), func(cfg *tenant.Config) error {
		for _, t := range sb.Tenants() {
			cfg.Put(tenant.Tenant{Name: t.Name(), BaseURL: t.BaseURL(), AppKey: t.AppKey(), ClientKey: t.ClientKey()})
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}

	// The secrets: in the real keyring for jwh, in a file for jwhmem.
	keyring := tenant.NewKeyring(time.Minute)
	secrets := map[string]string{}
	for _, t := range sb.Tenants() {
		secrets[t.Name()] = t.Secret()
	}
	start = time.Now()
	b.Cleanup(func() {
		start := time.Now()
		forEach(b, sb.Tenants(), 4, func(t *sandbox.Tenant) error { _ = keyring.Delete(t.Name()); return nil })
		b.Logf("keyring: %d secrets removed in %s", n, time.Since(start).Round(time.Millisecond))
	})
	forEach(b, sb.Tenants(), 4, func(t *sandbox.Tenant) error { return keyring.Set(t.Name(), []byte(t.Secret())) })
	b.Logf("keyring: %d secrets stored in %s", n, time.Since(start).Round(time.Millisecond))
	secretsFile := filepath.Join(dir, "secrets.json")
	data, err := json.Marshal(secrets)
	if err != nil {
		b.Fatal(err)
	}
	if err := os.WriteFile(secretsFile, data, 0o600); err != nil {
		b.Fatal(err)
	}
	env := cleanEnv(config, "JWH_MEMORY_SECRETS="+secretsFile)
	mon := monitorSecretService(b)

	rows := []struct {
		name, bin string
		keyring   bool
	}{
		{"real gnome-keyring, one secret per tenant", jwh, true},
		{"no keyring (jwhmem: secrets in memory)", jwhmem, false},
	}
	took := make([][][]time.Duration, len(rows)) // [row][concurrency][round]
	calls := make([][]int, len(concurrencies))   // keyring row: [concurrency][round]
	kinds := make([]string, len(concurrencies))  // keyring row: the last run's calls by method
	for i := range took {
		took[i] = make([][]time.Duration, len(concurrencies))
	}
	round := 0
	for b.Loop() {
		for ci, c := range concurrencies {
			for k := range rows {
				ri := (round + k) % len(rows)
				row := rows[ri]
				mon.Count(b)
				served.Store(0)
				cmd := exec.Command(row.bin, "extend", "--all-tenants", "--quiet", "--concurrency", strconv.Itoa(c))
				cmd.Env = env
				var out strings.Builder
				cmd.Stdout, cmd.Stderr = &out, &out
				t0 := time.Now()
				err := cmd.Run()
				d := time.Since(t0)
				if err != nil || out.Len() > 0 {
					b.Fatalf("%s extend --all-tenants --concurrency %d: %v\n%s", filepath.Base(row.bin), c, err, out.String())
				}
				if got := served.Load(); got != int64(2*n) {
					b.Fatalf("%s: the sandbox served %d requests, want %d (a list and a refresh per tenant)", filepath.Base(row.bin), got, 2*n)
				}
				took[ri][ci] = append(took[ri][ci], d)
				counts := mon.Count(b)
				line := fmt.Sprintf("round %d, concurrency %d: %s in %s", round+1, c, filepath.Base(row.bin), d.Round(time.Millisecond))
				if row.keyring {
					calls[ci] = append(calls[ci], total(counts))
					kinds[ci] = summary(counts)
					line += fmt.Sprintf("; %d Secret Service calls (%s)", total(counts), kinds[ci])
				}
				// Standard output: b.Log would cut the lines at ten.
				fmt.Println(line)
			}
		}
		round++
	}

	// The table goes to standard output: b.Log would cut it at ten lines.
	var t strings.Builder
	fmt.Fprintf(&t, "\njwh extend --all-tenants, %d tenants × %d webhooks, latency %s, medians of %d rounds\n\n", n, webhooks, latency, round)
	fmt.Fprintf(&t, "| secrets from |")
	for _, c := range concurrencies {
		fmt.Fprintf(&t, " concurrency %d |", c)
	}
	fmt.Fprintf(&t, "\n| --- |%s\n", strings.Repeat(" --- |", len(concurrencies)))
	for ri, row := range rows {
		fmt.Fprintf(&t, "| %s |", row.name)
		for ci, c := range concurrencies {
			floor := time.Duration(math.Ceil(float64(n)/float64(c))) * 2 * latency
			med := median(took[ri][ci])
			lo, hi := slices.Min(took[ri][ci]), slices.Max(took[ri][ci])
			fmt.Fprintf(&t, " %.1f s (floor %.1f s, %.2f×; range %.1f–%.1f s) |", med.Seconds(), floor.Seconds(), float64(med)/float64(floor), lo.Seconds(), hi.Seconds())
		}
		fmt.Fprintln(&t)
	}
	fmt.Fprintf(&t, "\nSecret Service calls per keyring run (median):\n")
	for ci, c := range concurrencies {
		fmt.Fprintf(&t, "- concurrency %d: %d (the last run: %s)\n", c, medianInt(calls[ci]), kinds[ci])
	}
	os.Stdout.WriteString(t.String())
}

// requireSecretService skips the test when secret-tool is missing (the
// sign that no Secret Service was installed) and fails it without a
// session bus.
func requireSecretService(tb testing.TB) {
	tb.Helper()
	if _, err := exec.LookPath("secret-tool"); err != nil {
		tb.Skip("SKIPPED: secret-tool is not installed: apt-get install -y --no-install-recommends gnome-keyring libsecret-tools, then run under dbus-run-session with with-keyring.sh")
	}
	if os.Getenv("DBUS_SESSION_BUS_ADDRESS") == "" {
		tb.Fatal("no session bus: run under 'env -u DISPLAY dbus-run-session -- sh with-keyring.sh go test -tags keyring ...'")
	}
}

// forEach calls f on every tenant, at most parallel at a time, and fails
// on the first error.
func forEach(tb testing.TB, tenants []*sandbox.Tenant, parallel int, f func(*sandbox.Tenant) error) {
	tb.Helper()
	errs := make([]error, len(tenants))
	sem := make(chan struct{}, parallel)
	var wg sync.WaitGroup
	for i, t := range tenants {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = f(t)
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			tb.Fatalf("tenant %s: %v", tenants[i].Name(), err)
		}
	}
}

// register registers n webhooks on the tenant, signed as its app, 100 per
// request.
func register(t *sandbox.Tenant, n int) error {
	hc, err := transport.New(transport.Options{Authorizer: connectjwt.NewSigner(t.AppKey(), []byte(t.Secret()), t.BasePath())})
	if err != nil {
		return err
	}
	base, err := urlpolicy.ParseBaseURL(t.BaseURL())
	if err != nil {
		return err
	}
	c := jira.NewClient(hc, base)
	for next := 1; next <= n; {
		req := jira.RegisterRequest{URL: "https://app.example.com/hook"}
		for ; next <= n && len(req.Webhooks) < 100; next++ {
			req.Webhooks = append(req.Webhooks, jira.WebhookSpec{JQLFilter: fmt.Sprintf("project = P%d", next), Events: []string{"jira:issue_updated"}})
		}
		results, err := c.RegisterWebhooks(context.Background(), req)
		if err != nil {
			return err
		}
		for _, r := range results {
			if r.ID == 0 {
				return fmt.Errorf("registration refused: %s", strings.Join(r.Errors, "; "))
			}
		}
	}
	return nil
}

func medianInt(v []int) int {
	if len(v) == 0 {
		return 0
	}
	s := slices.Sorted(slices.Values(v))
	return s[len(s)/2]
}
