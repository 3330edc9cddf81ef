package e2e

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/connectjwt"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// BenchmarkListenWrk measures jwh listen as docs/performance.md ("The
// server alone (wrk)") describes: each server runs as its own process
// pinned to CPU 0 (taskset), and wrk, pinned to CPU 1, sends it distinct
// deliveries (testdata/wrk-delivery.lua: a new identifier each, a JWT as
// Jira signs it) from 32 kept-alive connections. The servers are a bare
// net/http handler that reads the body and answers 200
// (testdata/bareserver), jwh listen --json, jwh listen --json --save FILE,
// jwh listen --json --inspect ADDR, and the same with the inspector's page
// open (a stream of every record, read by curl on CPU 1). Each round runs
// every server once, starting with a different one each round so that
// the machine's other load weighs on all alike; the table printed at the
// end has the medians and ranges of the rounds, the rate of each server
// relative to the bare handler and to --json, and the CPU time the server
// spent per request.
//
// Every run must verify every delivery: wrk must see no error and no
// status but 200, the listener's summary must count no refusal and no
// error, --json must print one line per delivery and --save must save
// one.
//
//	go test -run '^$' -bench ListenWrk -benchtime 1x -timeout 30m ./internal/e2e
//
// It needs wrk, taskset and curl, and at least 2 CPUs; it is skipped
// otherwise. $JWH_WRK_ROUNDS (default 5) and $JWH_WRK_DURATION (default
// 5s) change the rounds and the length of each run; $JWH_WRK_BIN names a
// jwh to measure instead of one built from this tree, and
// $JWH_WRK_BASELINE another jwh whose listen --json is measured in the
// same rounds, as one more server (another commit's, built as releases
// are: CGO_ENABLED=0 go build -trimpath -ldflags='-s -w').
func BenchmarkListenWrk(b *testing.B) {
	tools := map[string]string{}
	for _, name := range []string{"wrk", "taskset", "curl"} {
		p, err := exec.LookPath(name)
		if err != nil {
			b.Skipf("%s is not installed (apt-get install wrk util-linux curl)", name)
		}
		tools[name] = p
	}
	if runtime.NumCPU() < 2 {
		b.Skip("needs 2 CPUs: one for the server, one for wrk")
	}
	rounds := envInt(b, "JWH_WRK_ROUNDS", 5)
	duration := envDuration(b, "JWH_WRK_DURATION", 5*time.Second)

	dir := b.TempDir()
	jwh := os.Getenv("JWH_WRK_BIN")
	if jwh == "" {
		jwh = buildRelease(b, dir, "jwh", "./cmd/jwh")
	}
	bare := buildRelease(b, dir, "bareserver", "./internal/e2e/testdata/bareserver")
	script, err := filepath.Abs("testdata/wrk-delivery.lua")
	if err != nil {
		b.Fatal(err)
	}

	// One tenant, its secret in the environment: the listener reads no
	// keyring.
	const clientKey = "wrk-bench-client-key"
	secret := "wrk-bench-" + strconv.FormatInt(time.Now().UnixNano(), 36)
	config := filepath.Join(dir, "config.json")
	writeTenant(b, config, tenant.Tenant{Name: "bench", BaseURL: "https://bench.example.com", AppKey: appKey, ClientKey: clientKey})
	env := append(cleanEnv(config, tenant.EnvSecret+"="+secret), "DBUS_SESSION_BUS_ADDRESS=unix:path=/nonexistent")
	token, err := connectjwt.NewSigner(clientKey, []byte(secret), "/").WithTTL(2*time.Hour).Sign(http.MethodPost, &url.URL{Path: "/"})
	if err != nil {
		b.Fatal(err)
	}

	servers := []wrkServer{
		{name: "bare net/http handler", bare: true},
		{name: "jwh listen --json", args: []string{"--json"}},
		{name: "jwh listen --json --save FILE", args: []string{"--json"}, save: true},
		{name: "jwh listen --json --inspect ADDR", args: []string{"--json"}, inspect: true},
		{name: "jwh listen --json --inspect ADDR, page open", args: []string{"--json"}, inspect: true, page: true},
	}
	if base := os.Getenv("JWH_WRK_BASELINE"); base != "" {
		servers = append(servers, wrkServer{name: "baseline: " + filepath.Base(base) + " listen --json", bin: base, args: []string{"--json"}})
	}
	load0 := loadAverage()
	start := time.Now()
	results := make([][]wrkResult, len(servers))
	b.ResetTimer()
	for round := range rounds {
		for i := range servers {
			k := (round + i) % len(servers)
			s := servers[k]
			w := &wrkRun{
				b: b, tools: tools, env: env, token: token, script: script, duration: duration,
				dir: filepath.Join(dir, fmt.Sprintf("run-%d-%d", round, k)),
			}
			var r wrkResult
			if s.bare {
				r = w.bare(bare)
			} else {
				bin := jwh
				if s.bin != "" {
					bin = s.bin
				}
				r = w.listen(bin, s)
			}
			results[k] = append(results[k], r)
			fmt.Printf("round %d: %-50s %8.0f requests/s  p99 %9s  %5.1f µs CPU/request\n", round+1, s.name, r.rate, fmtLatency(r.p99), r.cpuPerRequest)
		}
	}
	b.StopTimer()

	med := make([]float64, len(servers))
	for k := range servers {
		med[k] = medianOf(results[k], func(r wrkResult) float64 { return r.rate })
	}
	var t strings.Builder
	fmt.Fprintf(&t, "\n%s, %s/%s, %d CPUs (%s), load average %s before and %s after, %d rounds of %s per server\n\n",
		start.Format("2006-01-02 15:04"), runtime.Version(), runtime.GOARCH, runtime.NumCPU(), cpuModel(), load0, loadAverage(), rounds, duration)
	// The ratios are those of the medians, and in brackets their range
	// over the rounds, each round's server against the same round's.
	ratio := func(k, ref int) string {
		if k == ref {
			return "1"
		}
		per := make([]float64, rounds)
		for i := range per {
			per[i] = results[k][i].rate / results[ref][i].rate
		}
		return fmt.Sprintf("%.2f (%.2f–%.2f)", med[k]/med[ref], slices.Min(per), slices.Max(per))
	}
	fmt.Fprintf(&t, "| server (CPU 0; wrk -t1 -c32 on CPU 1) | requests/s | range | vs bare | vs --json | p50 | p99 (range) | CPU µs/request |\n")
	fmt.Fprintf(&t, "| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: |\n")
	for k, s := range servers {
		rs := results[k]
		lo := slices.MinFunc(rs, func(x, y wrkResult) int { return cmpFloat(x.rate, y.rate) }).rate
		hi := slices.MaxFunc(rs, func(x, y wrkResult) int { return cmpFloat(x.rate, y.rate) }).rate
		p99lo := slices.MinFunc(rs, func(x, y wrkResult) int { return int(x.p99 - y.p99) }).p99
		p99hi := slices.MaxFunc(rs, func(x, y wrkResult) int { return int(x.p99 - y.p99) }).p99
		vsJSON := ""
		if k > 0 {
			vsJSON = ratio(k, 1)
		}
		fmt.Fprintf(&t, "| %s | %s | %s–%s | %s | %s | %s | %s (%s–%s) | %.1f |\n",
			s.name, thousands(med[k]), thousands(lo), thousands(hi), ratio(k, 0), vsJSON,
			fmtLatency(medianDuration(rs, func(r wrkResult) time.Duration { return r.p50 })),
			fmtLatency(medianDuration(rs, func(r wrkResult) time.Duration { return r.p99 })), fmtLatency(p99lo), fmtLatency(p99hi),
			medianOf(rs, func(r wrkResult) float64 { return r.cpuPerRequest }))
	}
	fmt.Fprint(os.Stdout, t.String())
	b.ReportMetric(med[1]/med[0], "json/bare")
	b.ReportMetric(med[2]/med[1], "save/json")
	b.ReportMetric(med[3]/med[1], "inspect/json")
	b.ReportMetric(med[4]/med[1], "page/json")
}

// A wrkServer is one of the servers BenchmarkListenWrk compares.
type wrkServer struct {
	name    string
	bare    bool     // testdata/bareserver instead of jwh listen
	bin     string   // another jwh than the one measured
	args    []string // jwh listen's flags, but --addr, --save and --inspect
	save    bool     // --save to a file of its own
	inspect bool     // --inspect on a port of its own
	page    bool     // and read the inspector's stream while wrk runs
}

// wrkResult is what one run measured.
type wrkResult struct {
	rate          float64 // requests per second, as wrk counts them
	p50, p99      time.Duration
	requests      int64   // answered, as wrk counts them
	cpuPerRequest float64 // the server's CPU time (user and system) per request, µs
}

// wrkRun runs one server under wrk.
type wrkRun struct {
	b        *testing.B
	tools    map[string]string
	env      []string
	token    string
	script   string
	duration time.Duration
	dir      string
}

// bare runs the bare handler under wrk.
func (w *wrkRun) bare(bin string) wrkResult {
	addr := freeAddr(w.b)
	srv := w.pinned(0, bin, addr)
	srv.Stdout, srv.Stderr = io.Discard, io.Discard
	if err := srv.Start(); err != nil {
		w.b.Fatal(err)
	}
	defer srv.Wait()
	defer srv.Process.Kill()
	waitListening(w.b, addr)
	return w.wrk(addr, srv.Process.Pid)
}

// listen runs jwh listen under wrk, and checks that it verified, printed
// and saved every delivery.
func (w *wrkRun) listen(jwh string, s wrkServer) wrkResult {
	b := w.b
	if err := os.MkdirAll(w.dir, 0o700); err != nil {
		b.Fatal(err)
	}
	// The files are removed after the run: a --save run writes about a
	// kilobyte per delivery.
	defer os.RemoveAll(w.dir)
	addr := freeAddr(b)
	args := append([]string{"listen", "--addr", addr}, s.args...)
	saved := filepath.Join(w.dir, "history.ndjson")
	if s.save {
		args = append(args, "--save", saved)
	}
	var inspector string
	if s.inspect {
		inspector = freeAddr(b)
		args = append(args, "--inspect", inspector)
	}
	stdout, stderr := filepath.Join(w.dir, "stdout"), filepath.Join(w.dir, "stderr")
	srv := w.pinned(0, jwh, args...)
	srv.Stdout, srv.Stderr = createFile(b, stdout), createFile(b, stderr)
	if err := srv.Start(); err != nil {
		b.Fatal(err)
	}
	var waitErr error
	exited := make(chan struct{})
	go func() { waitErr = srv.Wait(); close(exited) }()
	defer func() {
		srv.Process.Kill()
		<-exited
	}()
	waitReady(b, stderr, exited, &waitErr)

	if s.page {
		stream := w.openPage(inspector)
		defer func() {
			stream.Process.Kill()
			stream.Wait()
		}()
	}
	r := w.wrk(addr, srv.Process.Pid)

	srv.Process.Signal(os.Interrupt)
	select {
	case <-exited:
	case <-time.After(time.Minute):
		b.Fatalf("jwh %s did not stop within a minute of SIGINT", strings.Join(args, " "))
	}
	err := waitErr
	errOut, _ := os.ReadFile(stderr)
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		b.Fatalf("jwh %s: %v, want exit status 130\n%s", strings.Join(args, " "), err, errOut)
	}
	m := summaryRE.FindSubmatch(errOut)
	if m == nil {
		b.Fatalf("jwh %s: no summary with every delivery verified and none refused on stderr:\n%s", strings.Join(args, " "), lastLines(errOut, 20))
	}
	delivered, _ := strconv.ParseInt(string(m[1]), 10, 64)
	// wrk counts the answers it read; requests in flight when it stops
	// are delivered but not counted, one per connection at most.
	if delivered < r.requests || delivered > r.requests+wrkConnections {
		b.Fatalf("jwh %s: %d deliveries for %d requests answered", strings.Join(args, " "), delivered, r.requests)
	}
	if n := countFileLines(b, stdout); n != delivered {
		b.Fatalf("jwh %s: %d lines on stdout for %d deliveries", strings.Join(args, " "), n, delivered)
	}
	if s.save {
		if n := countFileLines(b, saved); n != delivered {
			b.Fatalf("jwh %s: %d records saved for %d deliveries", strings.Join(args, " "), n, delivered)
		}
	}
	return r
}

// summaryRE is the summary of a listener that verified every delivery.
var summaryRE = regexp.MustCompile(`Stopped after \S+: (\d+) deliveries, 0 duplicates, 0 rejected, 0 invalid requests, 0 errors\n`)

// wrkConnections is wrk's -c.
const wrkConnections = 32

// wrk runs wrk against addr and reads what it measured, with the CPU time
// the server (pid) spent meanwhile.
func (w *wrkRun) wrk(addr string, pid int) wrkResult {
	b := w.b
	cmd := w.pinned(1, w.tools["wrk"], "-t1", "-c"+strconv.Itoa(wrkConnections), "-d"+w.duration.String(), "--latency",
		"-s", w.script, "http://"+addr+"/")
	cmd.Env = append(slices.Clone(w.env), "TOKEN="+w.token)
	cpu0 := processCPU(b, pid)
	out, err := cmd.CombinedOutput()
	cpu := processCPU(b, pid) - cpu0
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	r, err := parseWrk(out)
	if err != nil {
		b.Fatalf("wrk: %v\n%s", err, out)
	}
	r.cpuPerRequest = float64(cpu) / float64(time.Microsecond) / float64(r.requests)
	return r
}

// openPage opens the inspector's page at addr as a browser would and
// starts reading its stream of records with curl on CPU 1.
func (w *wrkRun) openPage(addr string) *exec.Cmd {
	b := w.b
	resp, err := http.Get("http://" + addr + "/")
	if err != nil {
		b.Fatal(err)
	}
	page, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	m := regexp.MustCompile(`<meta name="jwh-token" content="([0-9a-f]+)">`).FindSubmatch(page)
	if err != nil || m == nil {
		b.Fatalf("the inspector's page has no token: %v\n%s", err, page)
	}
	cmd := w.pinned(1, w.tools["curl"], "-sSN", "-o", "/dev/null", "http://"+addr+"/events?token="+string(m[1]))
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	return cmd
}

// pinned is a command that runs name on the given CPU only.
func (w *wrkRun) pinned(cpu int, name string, args ...string) *exec.Cmd {
	cmd := exec.Command(w.tools["taskset"], append([]string{"-c", strconv.Itoa(cpu), name}, args...)...)
	cmd.Env = w.env
	return cmd
}

// parseWrk reads wrk's report: the rate, the p50 and p99 latencies and the
// number of requests. Any error or status but 2xx and 3xx is an error.
func parseWrk(out []byte) (wrkResult, error) {
	var r wrkResult
	s := string(out)
	if m := regexp.MustCompile(`(?m)^\s*(Non-2xx or 3xx responses|Socket errors):.*$`).FindString(s); m != "" {
		return r, fmt.Errorf("not every request was answered 200: %s", strings.TrimSpace(m))
	}
	m := regexp.MustCompile(`(?m)^Requests/sec:\s+([0-9.]+)`).FindStringSubmatch(s)
	if m == nil {
		return r, errors.New("no Requests/sec")
	}
	r.rate, _ = strconv.ParseFloat(m[1], 64)
	if m = regexp.MustCompile(`(?m)^\s*(\d+) requests in `).FindStringSubmatch(s); m == nil {
		return r, errors.New("no count of requests")
	}
	r.requests, _ = strconv.ParseInt(m[1], 10, 64)
	for _, p := range []struct {
		pct string
		d   *time.Duration
	}{{"50", &r.p50}, {"99", &r.p99}} {
		m := regexp.MustCompile(`(?m)^\s*` + p.pct + `%\s+([0-9.]+)(us|ms|s)\s*$`).FindStringSubmatch(s)
		if m == nil {
			return r, fmt.Errorf("no %s%% latency", p.pct)
		}
		d, err := time.ParseDuration(m[1] + m[2])
		if err != nil {
			return r, err
		}
		*p.d = d
	}
	if r.requests == 0 {
		return r, errors.New("no request answered")
	}
	return r, nil
}

// writeTenant writes a config file that holds t alone.
func writeTenant(b *testing.B, path string, t tenant.Tenant) {
	cfg, err := tenant.LoadConfig(path)
	if err != nil {
		b.Fatal(err)
	}
	unlock, err := cfg.Lock(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	defer unlock()
	cfg.Put(t)
	cfg.Default = t.Name
	if err := cfg.Save(); err != nil {
		b.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port that is free now.
func freeAddr(b *testing.B) string {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// waitListening waits until addr accepts connections.
func waitListening(b *testing.B, addr string) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		c, err := net.Dial("tcp", addr)
		if err == nil {
			c.Close()
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("nothing listens on %s after 30 seconds: %v", addr, err)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// waitReady waits until the listener whose stderr is the file errOut says
// it is ready.
func waitReady(b *testing.B, errOut string, exited <-chan struct{}, waitErr *error) {
	deadline := time.Now().Add(30 * time.Second)
	for {
		out, _ := os.ReadFile(errOut)
		if bytes.Contains(out, []byte("Ready!")) {
			return
		}
		select {
		case <-exited:
			b.Fatalf("jwh listen stopped before it was ready: %v\n%s", *waitErr, out)
		case <-time.After(10 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			b.Fatalf("jwh listen not ready after 30 seconds:\n%s", out)
		}
	}
}

// processCPU returns the user and system CPU time of process pid so far.
func processCPU(b *testing.B, pid int) time.Duration {
	stat, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		b.Fatal(err)
	}
	// The fields after the command name, which is in parentheses and
	// may hold spaces: utime and stime are the 14th and 15th of all.
	f := strings.Fields(string(stat[bytes.LastIndexByte(stat, ')')+1:]))
	utime, _ := strconv.ParseInt(f[11], 10, 64)
	stime, _ := strconv.ParseInt(f[12], 10, 64)
	const ticks = 100 // USER_HZ, 100 on every Linux
	return time.Duration(utime+stime) * time.Second / ticks
}

func createFile(b *testing.B, path string) *os.File {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { f.Close() })
	return f
}

func countFileLines(b *testing.B, path string) int64 {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	var n int64
	br := bufio.NewReaderSize(f, 1<<20)
	for {
		chunk, err := br.ReadSlice('\n')
		if len(chunk) > 0 && chunk[len(chunk)-1] == '\n' {
			n++
		}
		switch {
		case err == nil, errors.Is(err, bufio.ErrBufferFull):
		case err == io.EOF:
			return n
		default:
			b.Fatal(err)
		}
	}
}

func lastLines(b []byte, n int) []byte {
	lines := bytes.SplitAfter(b, []byte("\n"))
	return bytes.Join(lines[max(0, len(lines)-n):], nil)
}

func envDuration(b *testing.B, name string, def time.Duration) time.Duration {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	d, err := time.ParseDuration(v)
	if err != nil || d < time.Second {
		b.Fatalf("$%s=%q: want a duration of at least 1s", name, v)
	}
	return d
}

// loadAverage is the 1-minute load average of the machine.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return "unknown"
	}
	return strings.Fields(string(b))[0]
}

// cpuModel is the model name of the first CPU.
func cpuModel() string {
	b, _ := os.ReadFile("/proc/cpuinfo")
	for line := range strings.Lines(string(b)) {
		if name, ok := strings.CutPrefix(line, "model name"); ok {
			return strings.TrimSpace(strings.TrimLeft(name, " \t:"))
		}
	}
	return "unknown CPU"
}

func medianOf(rs []wrkResult, f func(wrkResult) float64) float64 {
	v := make([]float64, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	slices.Sort(v)
	return v[len(v)/2]
}

func medianDuration(rs []wrkResult, f func(wrkResult) time.Duration) time.Duration {
	v := make([]time.Duration, len(rs))
	for i, r := range rs {
		v[i] = f(r)
	}
	return median(v)
}

func cmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// thousands prints a rate as 12,345.
func thousands(f float64) string {
	s := strconv.FormatInt(int64(f+0.5), 10)
	for i := len(s) - 3; i > 0; i -= 3 {
		s = s[:i] + "," + s[i:]
	}
	return s
}

func fmtLatency(d time.Duration) string {
	return strconv.FormatFloat(float64(d)/float64(time.Millisecond), 'f', 2, 64) + " ms"
}
