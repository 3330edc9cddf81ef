package listencmd

import (
	"bufio"
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/listen"
)

// benchConcurrency is how many deliveries are in flight at once.
const benchConcurrency = 32

// BenchmarkListen measures deliveries per second and the 99th percentile
// latency at 32 concurrent senders on loopback, for jwh listen verifying
// every delivery and printing it to a file (--json, and the summary line
// with the pretty body; --json with --save to a history file too), next
// to a bare net/http handler that reads the body and answers 200, in the
// same run. The senders share the machine
// with the server, as a tunnel would.
//
//	go test -run '^$' -bench BenchmarkListen -benchtime 20000x ./internal/cmd/listencmd
func BenchmarkListen(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			io.Copy(io.Discard, r.Body)
			w.WriteHeader(http.StatusOK)
		}))
		defer srv.Close()
		u, _ := url.Parse(srv.URL + "/")
		h := newHarness(b)
		tok := benchToken(b, h, u)
		benchLoad(b, u, tok)
	})
	for _, mode := range []struct {
		name, flag string
		save       bool // --save to a file in the benchmark's directory
	}{
		{"verified-json", "--json", false},
		{"verified-pretty", "", false},
		{"verified-json-save", "--json", true},
	} {
		b.Run(mode.name, func(b *testing.B) {
			h := newHarness(b)
			dir := b.TempDir()
			stdout, err := os.Create(filepath.Join(dir, "stdout"))
			if err != nil {
				b.Fatal(err)
			}
			defer stdout.Close()
			stderr, err := os.Create(filepath.Join(dir, "stderr"))
			if err != nil {
				b.Fatal(err)
			}
			defer stderr.Close()
			h.ios.Out, h.ios.ErrOut = stdout, stderr
			var argv []string
			if mode.flag != "" {
				argv = append(argv, mode.flag)
			}
			saved := filepath.Join(dir, "history.ndjson")
			if mode.save {
				argv = append(argv, "--save", saved)
			}
			r := h.start(b, argv...)
			u, _ := url.Parse(r.base + "/")
			benchLoad(b, u, benchToken(b, h, u))
			r.stop()
			b.StopTimer()
			if mode.flag == "--json" {
				if n := countLines(b, stdout.Name()); n != b.N {
					b.Fatalf("%d deliveries printed, want %d", n, b.N)
				}
			}
			if mode.save {
				if n := countLines(b, saved); n != b.N {
					b.Fatalf("%d deliveries saved, want %d", n, b.N)
				}
			}
		})
	}
}

// benchToken is a token as Jira signs it for a POST to u, valid for the
// whole benchmark (the qsh is the same for every delivery to one URL).
func benchToken(b *testing.B, h *harness, u *url.URL) string {
	tok, err := h.jira(acmeKey, "acme", "/").WithTTL(time.Hour).Sign(http.MethodPost, &url.URL{Path: u.Path})
	if err != nil {
		b.Fatal(err)
	}
	return tok
}

var benchRun atomic.Int64 // distinguishes the identifiers of b.Run rounds

// benchLoad sends b.N distinct deliveries to u from benchConcurrency
// senders, fails on any status but 200, and reports deliveries/s and the
// p99 latency in milliseconds.
func benchLoad(b *testing.B, u *url.URL, token string) {
	body := payload("PRJ-1")
	tr := &http.Transport{MaxIdleConnsPerHost: benchConcurrency, MaxConnsPerHost: benchConcurrency, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr}
	latencies := make([]time.Duration, b.N)
	prefix := "bench-" + strconv.FormatInt(benchRun.Add(1), 10) + "-"
	var next atomic.Int64
	var failed atomic.Int64
	var wg sync.WaitGroup
	b.ResetTimer()
	cpu0 := cpuTime()
	start := time.Now()
	for range benchConcurrency {
		wg.Go(func() {
			for i := next.Add(1) - 1; i < int64(b.N); i = next.Add(1) - 1 {
				req := &http.Request{
					Method: http.MethodPost, URL: u, Host: u.Host, ContentLength: int64(len(body)),
					Body: io.NopCloser(bytes.NewReader(body)),
					Header: http.Header{
						"Content-Type":          {"application/json"},
						"Authorization":         {"JWT " + token},
						listen.HeaderIdentifier: {prefix + strconv.FormatInt(i, 10)},
					},
				}
				t0 := time.Now()
				resp, err := client.Do(req)
				if err == nil {
					io.Copy(io.Discard, resp.Body)
					resp.Body.Close()
				}
				latencies[i] = time.Since(t0)
				if err != nil || resp.StatusCode != http.StatusOK {
					if failed.Add(1) == 1 {
						status := 0
						if resp != nil {
							status = resp.StatusCode
						}
						b.Errorf("delivery %d: status %d, %v", i, status, err)
					}
				}
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)
	cpu := cpuTime() - cpu0
	b.StopTimer()
	if n := failed.Load(); n > 0 {
		b.Fatalf("%d of %d deliveries failed", n, b.N)
	}
	slices.Sort(latencies)
	p99 := latencies[min(len(latencies)-1, len(latencies)*99/100)]
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "deliveries/s")
	b.ReportMetric(float64(p99)/float64(time.Millisecond), "p99-ms")
	b.ReportMetric(float64(latencies[len(latencies)/2])/float64(time.Millisecond), "p50-ms")
	// CPU time of the process (server and senders) per delivery: what
	// bounds the rate on a machine whose cores are busy, and less
	// sensitive than the rate to other processes.
	b.ReportMetric(float64(cpu)/float64(time.Microsecond)/float64(b.N), "cpu-µs/delivery")
}

// cpuTime returns the user and system CPU time of the process so far.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func countLines(b *testing.B, path string) int {
	f, err := os.Open(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	if err := sc.Err(); err != nil {
		b.Fatal(err)
	}
	return n
}
