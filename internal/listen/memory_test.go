package listen

import (
	"fmt"
	"io"
	"net/http"
	"net/url"
	"runtime"
	"runtime/metrics"
	"sync"
	"testing"
	"time"
)

// filler is a request body of n bytes made as it is read, so that the
// senders hold no body in memory: zeros, or with json a JSON object
// {"pad":"00…0"}.
type filler struct {
	n, off int64
	json   bool
}

var xs = []byte(fmt.Sprintf("%032768d", 0)) // 32 KiB of '0'

func (f *filler) Read(p []byte) (int, error) {
	if f.off >= f.n {
		return 0, io.EOF
	}
	k := int(min(int64(len(p)), f.n-f.off))
	for done := 0; done < k; {
		done += copy(p[done:k], xs)
	}
	if f.json {
		const head = `{"pad":"`
		end := f.off + int64(k)
		for pos := f.off; pos < end && pos < int64(len(head)); pos++ {
			p[pos-f.off] = head[pos]
		}
		if pos := f.n - 2; pos >= f.off && pos < end {
			p[pos-f.off] = '"'
		}
		if pos := f.n - 1; pos >= f.off && pos < end {
			p[pos-f.off] = '}'
		}
	}
	f.off += int64(k)
	return k, nil
}

// heapSampler records the largest heap seen: the bytes of heap objects,
// live or not yet swept (runtime.MemStats.HeapAlloc), and the live heap as
// the last collection found it.
type heapSampler struct {
	stop       chan struct{}
	done       chan struct{}
	peak, live uint64
}

var heapMetrics = []string{"/memory/classes/heap/objects:bytes", "/gc/heap/live:bytes"}

func sampleHeap() *heapSampler {
	h := &heapSampler{stop: make(chan struct{}), done: make(chan struct{})}
	samples := make([]metrics.Sample, len(heapMetrics))
	for i, name := range heapMetrics {
		samples[i].Name = name
	}
	go func() {
		defer close(h.done)
		tick := time.NewTicker(time.Millisecond)
		defer tick.Stop()
		for {
			metrics.Read(samples)
			h.peak = max(h.peak, samples[0].Value.Uint64())
			h.live = max(h.live, samples[1].Value.Uint64())
			select {
			case <-h.stop:
				return
			case <-tick.C:
			}
		}
	}()
	return h
}

func (h *heapSampler) end() (peak, live uint64) {
	close(h.stop)
	<-h.done
	return h.peak, h.live
}

func heapNow() (objects, live uint64) {
	samples := []metrics.Sample{{Name: heapMetrics[0]}, {Name: heapMetrics[1]}}
	metrics.Read(samples)
	return samples[0].Value.Uint64(), samples[1].Value.Uint64()
}

// TestMemoryBound sends, all at once and with the default limits, 32
// chunked 12 MB bodies without a JWT, 32 chunked 12 MB bodies with a valid
// JWT (over the 10 MiB limit) and 32 declared 9 MiB deliveries with a
// valid JWT (under it), and samples the heap while the listener handles
// them. The heap must stay within the body budget plus a fixed margin,
// and, between collections, the garbage the collector allows (GOGC=100:
// as much again as the live heap).
//
//	go test -run TestMemoryBound -v ./internal/listen
func TestMemoryBound(t *testing.T) {
	if testing.Short() {
		t.Skip("sends 700 MB over loopback")
	}
	const (
		each      = 32
		chunked   = 12_000_000
		declared  = 9 << 20
		inflight  = 64 << 20 // DefaultMaxInflight
		margin    = 32 << 20 // the test's own senders, connections, buffers
		liveBound = inflight + margin
		heapBound = 2 * liveBound // GOGC=100
	)
	l := start(t, Config{Path: "/hook", Leeway: DefaultLeeway, OnEvent: func(e Event) {
		if d, ok := e.(*Delivery); ok {
			d.Body = nil // the recorder keeps the events; not their bodies
		}
	}})
	u, _ := url.Parse("/hook")
	tok, err := jiraSigner("/").WithTTL(time.Hour).Sign(http.MethodPost, u)
	if err != nil {
		t.Fatal(err)
	}
	tr := &http.Transport{MaxConnsPerHost: 0, DisableCompression: true}
	defer tr.CloseIdleConnections()
	client := &http.Client{Transport: tr, Timeout: 2 * time.Minute}

	runtime.GC()
	base, baseLive := heapNow()
	sampler := sampleHeap()
	var mu sync.Mutex
	outcomes := map[string]int{}
	var wg sync.WaitGroup
	for i := range 3 * each {
		wg.Go(func() {
			kind, body, length, token := "no JWT, chunked 12 MB", &filler{n: chunked}, int64(-1), ""
			switch i % 3 {
			case 1:
				kind, token = "JWT, chunked 12 MB", tok
			case 2:
				kind, body, length, token = "JWT, declared 9 MiB", &filler{n: declared, json: true}, declared, tok
			}
			req, _ := http.NewRequest(http.MethodPost, l.base+"/hook", body)
			req.ContentLength = length
			req.Header.Set(HeaderIdentifier, fmt.Sprint("mem-", i))
			if token != "" {
				req.Header.Set("Authorization", "JWT "+token)
			}
			outcome := "connection closed while sending"
			if resp, err := client.Do(req); err == nil {
				io.Copy(io.Discard, resp.Body)
				resp.Body.Close()
				outcome = resp.Status
			}
			mu.Lock()
			outcomes[kind+": "+outcome]++
			mu.Unlock()
		})
	}
	wg.Wait()
	peak, live := sampler.end()
	t.Logf("heap before: %.1f MiB (live %.1f MiB)", mib(base), mib(baseLive))
	t.Logf("peak heap: %.1f MiB above it; peak live heap: %.1f MiB above it", mib(peak-min(peak, base)), mib(live-min(live, baseLive)))
	t.Logf("outcomes: %v", outcomes)
	if peak > base+heapBound {
		t.Errorf("peak heap %.1f MiB above the start, want at most %.0f MiB (2 × (budget %d MiB + margin %d MiB))",
			mib(peak-base), mib(heapBound), inflight>>20, margin>>20)
	}
	if live > baseLive+liveBound {
		t.Errorf("peak live heap %.1f MiB above the start, want at most %.0f MiB (budget %d MiB + margin %d MiB)",
			mib(live-baseLive), mib(liveBound), inflight>>20, margin>>20)
	}
	// Every request was refused or accepted as it should be. A 503 is
	// allowed: a body that waits too long for room gets one. A sender
	// still writing a refused body may see the connection closed before
	// it reads the answer (TestRefusedBeforeTheBody checks the answer);
	// the listener's counts say what it answered.
	for o, n := range outcomes {
		switch o {
		case "no JWT, chunked 12 MB: 401 Unauthorized", "no JWT, chunked 12 MB: connection closed while sending",
			"JWT, chunked 12 MB: 413 Request Entity Too Large", "JWT, chunked 12 MB: connection closed while sending",
			"JWT, chunked 12 MB: 503 Service Unavailable",
			"JWT, declared 9 MiB: 200 OK", "JWT, declared 9 MiB: 503 Service Unavailable":
		default:
			t.Errorf("%d × %s", n, o)
		}
	}
	if st := l.Stats(); st.Rejected != each || st.Delivered == 0 {
		t.Errorf("%d requests answered 401, %d deliveries accepted; want %d and some", st.Rejected, st.Delivered, each)
	}
}

func mib(n uint64) float64 { return float64(n) / (1 << 20) }
