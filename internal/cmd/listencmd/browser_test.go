package listencmd

import (
	"bytes"
	"context"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/inspect"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/listen"
	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

var updateScreenshot = flag.Bool("update-screenshot", false, "save the inspector's screenshot to docs/img/inspector.png")

// chromium returns the path of a Chromium (or Chrome) to drive, or skips
// the test, loudly: the inspector is tested in a real browser.
func chromium(t *testing.T) string {
	t.Helper()
	if p := os.Getenv("JWH_CHROMIUM"); p != "" {
		return p
	}
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	t.Skip("NO BROWSER: the web inspector's browser test did not run; install chromium (apt-get install -y --no-install-recommends chromium) or set JWH_CHROMIUM")
	return ""
}

// app stands for the developer's app: it answers every delivery 200 and
// keeps what it received.
type app struct {
	*httptest.Server
	mu     sync.Mutex
	bodies [][]byte
	auth   []string
}

func newApp(t *testing.T) *app {
	a := &app{}
	a.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		a.mu.Lock()
		a.bodies = append(a.bodies, b)
		a.auth = append(a.auth, r.Header.Get("Authorization"))
		a.mu.Unlock()
	}))
	t.Cleanup(a.Close)
	return a
}

func (a *app) received() ([][]byte, []string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	return append([][]byte(nil), a.bodies...), append([]string(nil), a.auth...)
}

// TestInspectorInBrowser drives jwh listen --inspect in headless Chromium
// with deliveries from the sandbox: they appear in the list without a
// reload; selecting one shows its verdict, claims, changelog and the diff
// against the previous delivery of its issue; the filter selects; Replay
// re-sends a delivery, re-signed by package replay as jwh wires it, through
// the listener to the app, and the replay appears in the list as a replay of
// the original.
func TestInspectorInBrowser(t *testing.T) {
	browser := chromium(t)

	// The sandbox, its tenant imported into the listener's config.
	sb := sandbox.New(sandbox.Options{RetryScale: 1e-6})
	ten, err := sb.AddTenant(sandbox.TenantConfig{Name: "sandbox", BasePath: "/"})
	if err != nil {
		t.Fatal(err)
	}
	run, err := sb.Listen("")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { run.Close() })
	h := newHarness(t)
	h.f.Now = time.Now // the sandbox signs at the real time
	cfg, err := tenant.LoadConfig(h.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	unlock, err := cfg.Lock(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	cfg.Put(tenant.Tenant{Name: "sandbox", BaseURL: run.BaseURL("sandbox"), AppKey: ten.AppKey(), ClientKey: ten.ClientKey()})
	err = cfg.Save()
	unlock()
	if err != nil {
		t.Fatal(err)
	}
	if err := h.store.Set("sandbox", []byte(ten.Secret())); err != nil {
		t.Fatal(err)
	}

	myApp := newApp(t)
	r, base := h.startInspected(t, "--quiet", "--path", "/hook", "--forward-to", myApp.URL+"/webhook")

	// A webhook for project PRJ, registered as jwh register does.
	hc, err := transport.New(transport.Options{Authorizer: connectjwt.NewSigner(ten.AppKey(), []byte(ten.Secret()), "/"), Timeout: 10 * time.Second, MaxAttempts: 1})
	if err != nil {
		t.Fatal(err)
	}
	jc := jira.NewClient(hc, mustURL(t, run.BaseURL("sandbox")))
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	if _, err := jc.RegisterWebhooks(ctx, jira.RegisterRequest{URL: r.base + "/hook", Webhooks: []jira.WebhookSpec{
		{JQLFilter: "project = PRJ", Events: []string{"jira:issue_updated", "jira:issue_created"}},
	}}); err != nil {
		t.Fatal(err)
	}
	trigger := func(name string, spec sandbox.IssueSpec, changed ...string) {
		t.Helper()
		tr, err := ten.Trigger(sandbox.Event{Name: name, Issue: sandbox.Issue{}.With(spec), ChangedFields: changed})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := tr.Wait(ctx); err != nil {
			t.Fatal(err)
		}
	}

	// The browser.
	bctx, stopBrowser := newBrowser(t, ctx, browser)
	defer stopBrowser()
	do := func(what string, steps ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		if err := chromedp.Do(bctx, steps...); err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	text := func(sel chromedp.CSS) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.TextContent(sel))
		if err != nil {
			t.Fatalf("reading %s: %v", sel, err)
		}
		return s
	}
	eval := func(expr string) string {
		t.Helper()
		s, err := chromedp.Run(bctx, chromedp.Evaluate[string](expr))
		if err != nil {
			t.Fatalf("evaluating %s: %v", expr, err)
		}
		return s
	}
	visibleRows := func() string {
		t.Helper()
		return eval(`[...document.querySelectorAll('#list li')].filter(li => !li.hidden).map(li => li.dataset.seq).join(',')`)
	}
	// typeInto empties an input (as select-all and delete would) and
	// types text into it.
	typeInto := func(id, text string) {
		t.Helper()
		eval(fmt.Sprintf(`(() => { const e = document.getElementById(%q); e.value = ''; e.dispatchEvent(new Event('input')); return '' })()`, id))
		if text != "" {
			do("typing into #"+id, chromedp.SendKeys(chromedp.CSS("#"+id), text))
		}
	}
	row := func(seq int) chromedp.CSS { return chromedp.CSS(fmt.Sprintf(`#list li[data-seq="%d"] button`, seq)) }

	do("opening the page", chromedp.Navigate(base+"/"), chromedp.WaitVisible(chromedp.CSS(`#state.live`)))

	// Deliveries appear without a reload.
	trigger("jira:issue_created", sandbox.IssueSpec{Key: "PRJ-1", Project: "PRJ", Status: "To Do", Summary: "Checkout fails for EUR carts"})
	do("waiting for the first delivery", chromedp.WaitVisible(row(1)))
	trigger("jira:issue_updated", sandbox.IssueSpec{Key: "PRJ-1", Project: "PRJ", Status: "In Progress", Summary: "Checkout fails for EUR carts"}, "status")
	trigger("jira:issue_updated", sandbox.IssueSpec{Key: "PRJ-2", Project: "PRJ", Status: "To Do", Summary: "Typo on the invoice page"}, "summary")
	trigger("jira:issue_updated", sandbox.IssueSpec{Key: "PRJ-1", Project: "PRJ", Status: "Done", Summary: "Checkout fails for EUR carts", Assignee: "5b10ac8d82e05b22cc7d4ef5"}, "status", "assignee")
	// And a request that is refused: no JWT.
	if status, _ := r.send(t, delivery{path: "/hook", body: payload("PRJ-3"), identifier: "forged-1"}); status != 401 {
		t.Fatalf("a delivery without a JWT: %d", status)
	}
	do("waiting for the other deliveries", chromedp.WaitVisible(row(5)))
	if got := visibleRows(); got != "5,4,3,2,1" {
		t.Errorf("rows %v, want the newest first: 5,4,3,2,1", got)
	}
	if s := text(row(5)); !strings.Contains(s, "✗") || !strings.Contains(s, "401") {
		t.Errorf("the refused request's row: %q", s)
	}
	if s := text(row(4)); !strings.Contains(s, "jira:issue_updated") || !strings.Contains(s, "PRJ-1") || !strings.Contains(s, "✓") || !strings.Contains(s, "200") {
		t.Errorf("the last delivery's row: %q", s)
	}

	// A refused request is not a delivery: it cannot be replayed.
	do("selecting the refused request", chromedp.Click(row(5)), chromedp.WaitVisible(chromedp.CSS(`#detail`)))
	if got := eval(`String(document.getElementById('replay').disabled)`); got != "true" {
		t.Errorf("the Replay button of a refused request is enabled")
	}

	// Selecting one shows its verdict, claims, changelog and diff.
	do("selecting delivery 4", chromedp.Click(row(4)), chromedp.WaitVisible(chromedp.CSS(`#detail`)))
	if s := text(chromedp.CSS("#verdict")); !strings.Contains(s, "✓ verified") || !strings.Contains(s, "tenant sandbox") {
		t.Errorf("verdict %q", s)
	}
	if s := text(chromedp.CSS("#token")); !strings.Contains(s, "HS256") || !strings.Contains(s, ten.ClientKey()) || !strings.Contains(s, "qsh") {
		t.Errorf("token %q, want its header and claims (iss %s)", s, ten.ClientKey())
	}
	if s := text(chromedp.CSS("#changelog")); !strings.Contains(s, "status: ") || !strings.Contains(s, "→") || !strings.Contains(s, `"Done"`) {
		t.Errorf("changelog %q", s)
	}
	if s := text(chromedp.CSS("#diff-h")); !strings.Contains(s, "Diff against #2") {
		t.Errorf("diff heading %q, want the previous delivery of PRJ-1, #2", s)
	}
	if s := text(chromedp.CSS("#diff")); !strings.Contains(s, `issue.fields.status.name: "In Progress" → "Done"`) {
		t.Errorf("diff %q, want the status change", s)
	}
	if s := text(chromedp.CSS("#headers")); !strings.Contains(s, listen.HeaderIdentifier) || strings.Contains(s, "Authorization") {
		t.Errorf("headers %q", s)
	}
	if s := text(chromedp.CSS("#body")); !strings.Contains(s, `"webhookEvent"`) {
		t.Errorf("body %q", s)
	}

	// The filter.
	typeInto("filter", "refused")
	if got := visibleRows(); got != "5" {
		t.Errorf("filter refused: rows %v, want 5", got)
	}
	typeInto("filter", "prj-2")
	if got := visibleRows(); got != "3" {
		t.Errorf("filter prj-2: rows %v, want 3", got)
	}
	typeInto("filter", "")
	if got := visibleRows(); got != "5,4,3,2,1" {
		t.Errorf("no filter: rows %v", got)
	}

	// Replay delivery 4 through the listener: re-signed for the
	// listener's URL, verified there, forwarded to the app, and in the list.
	before, _ := myApp.received()
	if got := eval(`document.getElementById('target').value`); got != myApp.URL+"/webhook" {
		t.Errorf("the replay target is %q, want --forward-to (%s/webhook)", got, myApp.URL)
	}
	typeInto("target", r.base+"/hook")
	do("replaying",
		chromedp.Click(chromedp.CSS(`#replay`)),
		chromedp.WaitVisible(row(6)),
	)
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](`document.getElementById('replay-result').textContent.includes('200')`, chromedp.WithPollingTimeout(time.Minute))); err != nil {
		t.Fatalf("waiting for the replay's result: %v (it says %q)", err, text("#replay-result"))
	}
	if s := text(chromedp.CSS("#replay-result")); !strings.HasPrefix(s, "✓ 200 in ") {
		t.Errorf("replay result %q", s)
	}
	after, auth := myApp.received()
	if len(after) != len(before)+1 || !bytes.Equal(after[len(after)-1], before[len(before)-1]) {
		t.Errorf("the app got %d deliveries after the replay (had %d); the replayed body must be the original's bytes", len(after), len(before))
	}
	if !strings.HasPrefix(auth[len(auth)-1], "JWT ") {
		t.Errorf("the replay reached the app without its token: %q", auth[len(auth)-1])
	}
	// Verified by the listener (a token for its URL), not a duplicate (a
	// new identifier), and known for a replay of #4.
	if s := text(row(6)); !strings.Contains(s, "✓") || strings.Contains(s, "=") || !strings.Contains(s, "PRJ-1") || !strings.Contains(s, "200") || !strings.Contains(s, "↻") {
		t.Errorf("the replay's row: %q", s)
	}
	do("selecting the replay", chromedp.Click(row(6)), chromedp.WaitVisible(chromedp.CSS(`#detail`)))
	if s := text(chromedp.CSS("#verdict")); !strings.Contains(s, "✓ verified") || !strings.Contains(s, "tenant sandbox") {
		t.Errorf("the replay's verdict %q", s)
	}
	if s := text(chromedp.CSS("#facts")); !strings.Contains(s, "replay of#4") {
		t.Errorf("the replay's facts %q, want replay of #4", s)
	}
	if s := text(chromedp.CSS("#replay-result")); s != "" {
		t.Errorf("the replay result of another delivery is shown: %q", s)
	}

	// The JSON diff, case by case.
	for _, tt := range []struct{ a, b, want string }{
		{`{"a":1}`, `{"a":1}`, `[]`},
		{`{"a":1,"b":2}`, `{"a":1,"b":3}`, `[{"op":"changed","path":"b","from":2,"to":3}]`},
		{`{"a":{"x":[1,2]}}`, `{"a":{"x":[1,3,4]}}`, `[{"op":"changed","path":"a.x[1]","from":2,"to":3},{"op":"added","path":"a.x[2]","to":4}]`},
		{`{"a":1,"gone":true}`, `{"new key":null,"a":1}`, `[{"op":"removed","path":"gone","from":true},{"op":"added","path":"[\"new key\"]","to":null}]`},
		{`{"a":{"b":1}}`, `{"a":[1]}`, `[{"op":"changed","path":"a","from":{"b":1},"to":[1]}]`},
		{`{"a":"x"}`, `{"a":"x","b":{"c":1}}`, `[{"op":"added","path":"b","to":{"c":1}}]`},
	} {
		if got := eval(fmt.Sprintf(`JSON.stringify(window.jwhInspector.jsonDiff(%s, %s))`, tt.a, tt.b)); got != tt.want {
			t.Errorf("jsonDiff(%s, %s) = %s, want %s", tt.a, tt.b, got, tt.want)
		}
	}

	if *updateScreenshot {
		do("selecting delivery 4", chromedp.Click(row(4)), chromedp.WaitVisible(chromedp.CSS(`#detail`)))
		png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatal(err)
		}
		out := filepath.Join("..", "..", "..", "docs", "img", "inspector.png")
		if err := os.MkdirAll(filepath.Dir(out), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("wrote %s", out)
	}
}

// TestInspectorPageBounded: 10,000 records arriving at a page that is open
// leave it holding the last 1000, newest first, and still filtering.
func TestInspectorPageBounded(t *testing.T) {
	browser := chromium(t)
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	insp, err := inspect.New(ln.Addr(), inspect.Config{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Minute)
	defer cancel()
	served := make(chan error, 1)
	go func() { served <- insp.Serve(ctx, ln) }()
	defer func() {
		cancel()
		<-served
	}()

	bctx, stop := newBrowser(t, ctx, browser)
	defer stop()
	if err := chromedp.Do(bctx, chromedp.Navigate(insp.URL()), chromedp.WaitVisible(chromedp.CSS(`#state.live`))); err != nil {
		t.Fatal(err)
	}
	const n = 10_000
	for i := 1; i <= n; i++ {
		insp.Add(fmt.Appendf(nil, `{"v":1,"seq":%d,"received":"2026-12-02T03:04:05.123456Z","verdict":"verified","status":200,"event":"jira:issue_updated","issue":"PRJ-%d","body":{"webhookEvent":"jira:issue_updated","issue":{"key":"PRJ-%d","fields":{"n":%d}}}}`, i, i%97, i%97, i))
	}
	if _, err := chromedp.Run(bctx, chromedp.Poll[bool](fmt.Sprintf(`document.getElementById('count').textContent === '1000 deliveries' && document.querySelector('#list li').dataset.seq === '%d'`, n), chromedp.WithPollingTimeout(2*time.Minute))); err != nil {
		t.Fatalf("waiting for the page to hold the last 1000 records: %v", err)
	}
	got, err := chromedp.Run(bctx, chromedp.Evaluate[string](`(() => { const li = document.querySelectorAll('#list li'); return li.length + ' ' + li[0].dataset.seq + ' ' + li[li.length-1].dataset.seq })()`))
	if err != nil {
		t.Fatal(err)
	}
	if want := fmt.Sprintf("1000 %d %d", n, n-999); got != want {
		t.Errorf("rows, first, last: %s; want %s", got, want)
	}
	if err := chromedp.Do(bctx, chromedp.SendKeys(chromedp.CSS(`#filter`), "prj-5 ")); err != nil {
		t.Fatal(err)
	}
	visible, err := chromedp.Run(bctx, chromedp.Evaluate[int](`[...document.querySelectorAll('#list li')].filter(li => !li.hidden).length`))
	if err != nil {
		t.Fatal(err)
	}
	// PRJ-5 and PRJ-50 … PRJ-59 of the last 1000: the filter matches words
	// anywhere in the event, issue, tenant, verdict, identifier, status, path.
	want := 0
	for i := n - 999; i <= n; i++ {
		if k := fmt.Sprint(i % 97); strings.HasPrefix(k, "5") {
			want++
		}
	}
	if visible != want {
		t.Errorf("filter prj-5: %d rows, want %d", visible, want)
	}
}

// newBrowser starts headless Chromium with the flags that work on a
// machine without a network (no background connections, no updates).
func newBrowser(t *testing.T, ctx context.Context, path string) (context.Context, func()) {
	t.Helper()
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(ctx, append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1440, 900),
	)...)
	bctx, cancelBrowser := chromedp.NewContext(allocCtx)
	return bctx, func() {
		cancelBrowser()
		cancelAlloc()
	}
}
