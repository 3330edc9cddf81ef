// Package inspect serves the web inspector of jwh listen: a page on a
// loopback address that shows the listener's deliveries as they arrive,
// each as its record (the JSON object per answered request that jwh listen
// --save writes as one line), and replays one on request.
//
// The package owns the page (embedded: plain HTML, CSS and JavaScript, no
// other origin), the ring of the last records it holds, the stream of
// server-sent events that feeds the page, and the defences of a local
// server that any web site the developer visits could try to reach: the
// Host header must name the bound address (DNS rebinding), the stream and
// the replay endpoint need the page's token, and a replay must be a
// same-origin request with a JSON body (cross-site request forgery).
// Re-signing and sending a replay is the caller's business: Config.Replay.
package inspect

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// Defaults of Config and of the jwh listen --inspect flag.
const (
	DefaultAddr = "127.0.0.1:4040"
	// DefaultKeep is how many records the inspector holds (and the page
	// shows); the --save file has them all.
	DefaultKeep = 1000
	// DefaultMaxBytes bounds the bytes of the records held, whatever
	// their number: deliveries may be up to jwh listen's --max-body each.
	DefaultMaxBytes = 64 << 20
	// DefaultReplayTimeout bounds one replay, the target's answer
	// included.
	DefaultReplayTimeout = 30 * time.Second
)

// TokenHeader is the header that carries the page's token on a replay.
// A page of another origin cannot read the token, and cannot send a
// custom header without a CORS preflight, which the inspector never
// allows.
const TokenHeader = "X-Jwh-Token"

// maxReplayRequest bounds the body of POST /replay: {"seq": N, "to": URL}.
const maxReplayRequest = 16 << 10

// maxReplaysAtOnce bounds the replays in progress: a page (or a loop in
// one) cannot make the inspector open connections without end.
const maxReplaysAtOnce = 4

// pingEvery is how often an idle stream sends a comment, so that a page
// whose connection died is noticed (by the write) and freed.
const pingEvery = 25 * time.Second

// streamEvery is the shortest time between two writes to a page's stream:
// the records of a burst go out together, so that an open page costs the
// listener one write per streamEvery, not one per delivery, and a person
// sees no delay.
const streamEvery = 50 * time.Millisecond

// streamWriteTimeout bounds one write to a page's stream: a page that
// stops reading is dropped rather than held.
const streamWriteTimeout = 30 * time.Second

// ReplayResult is the answer of a replayed delivery's target.
type ReplayResult struct {
	Status  int           // the target's status code; 0 when it did not answer
	Latency time.Duration // from sending the request to reading the answer
	// Target is the URL the delivery was sent to, when it is not the
	// target the func was given (a target without a path gets the
	// record's path, for one); "" otherwise.
	Target string
}

// A ReplayFunc re-sends the delivery of a record (line, as given to Add) to
// target, signed afresh for it. target has passed urlpolicy's rule for the
// user's own app (urlpolicy.ParseTargetURL). Its error is shown on the page
// as it is, so it must hold no secret.
type ReplayFunc func(ctx context.Context, line []byte, target *url.URL) (ReplayResult, error)

// Config configures a Server. Every field is optional.
type Config struct {
	// Keep is how many records are held; zero means DefaultKeep.
	Keep int
	// MaxBytes bounds the bytes of the records held (the newest is kept
	// whatever its size); zero means DefaultMaxBytes.
	MaxBytes int64
	// Replay re-sends a record's delivery. Nil: the page's Replay button
	// answers that replay is not available.
	Replay ReplayFunc
	// ReplayTarget is the URL a replay goes to when the page names none:
	// jwh listen's --forward-to.
	ReplayTarget string
	// ReplayTimeout bounds one replay; zero means DefaultReplayTimeout.
	ReplayTimeout time.Duration
}

// A Server is the inspector: an http.Handler for the page, its stream and
// its replay endpoint, holding the last records given to Add.
type Server struct {
	cfg      Config
	ring     *ring
	token    string   // the page's token: 32 random bytes, hex
	instance string   // names this run to the page, which starts afresh on a new one
	hosts    []string // the Host headers accepted: the bound address, by IP and as localhost
	url      string   // where the page is, for people
	page     []byte   // the page, with the token and the defaults filled in
	cop      *http.CrossOriginProtection
	replays  chan struct{} // a slot per replay in progress
	mux      *http.ServeMux
}

// New returns an inspector that serves on addr, the address its listener
// is bound to. addr must be a loopback TCP address: the page shows
// deliveries and replays them, so it must be reachable from this machine
// only.
func New(addr net.Addr, cfg Config) (*Server, error) {
	ta, ok := addr.(*net.TCPAddr)
	if !ok || !ta.IP.IsLoopback() {
		return nil, fmt.Errorf("the inspector's address %s is not a loopback address: use 127.0.0.1 or [::1]", addr)
	}
	if cfg.Keep <= 0 {
		cfg.Keep = DefaultKeep
	}
	if cfg.MaxBytes <= 0 {
		cfg.MaxBytes = DefaultMaxBytes
	}
	if cfg.ReplayTimeout <= 0 {
		cfg.ReplayTimeout = DefaultReplayTimeout
	}
	port := strconv.Itoa(ta.Port)
	hostport := net.JoinHostPort(ta.IP.String(), port)
	s := &Server{
		cfg:      cfg,
		ring:     newRing(cfg.Keep, cfg.MaxBytes),
		token:    randomHex(32),
		instance: randomHex(8),
		hosts:    []string{hostport, net.JoinHostPort("localhost", port)},
		url:      "http://" + hostport + "/",
		cop:      http.NewCrossOriginProtection(),
		replays:  make(chan struct{}, maxReplaysAtOnce),
		mux:      http.NewServeMux(),
	}
	page, err := renderPage(pageData{Token: s.token, Target: cfg.ReplayTarget, Keep: cfg.Keep})
	if err != nil {
		return nil, err
	}
	s.page = page
	s.cop.SetDenyHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Error(w, "forbidden: a cross-origin request", http.StatusForbidden)
	}))
	s.mux.HandleFunc("GET /{$}", s.serveIndex)
	s.mux.HandleFunc("GET /app.js", s.serveStatic)
	s.mux.HandleFunc("GET /style.css", s.serveStatic)
	s.mux.HandleFunc("GET /events", s.serveEvents)
	s.mux.HandleFunc("POST /replay", s.serveReplay)
	return s, nil
}

// URL is the address of the page.
func (s *Server) URL() string { return s.url }

// Add hands the inspector one record: a JSON object, as one line without
// its new line (what jwh listen --save writes). It keeps a copy, so the
// caller may reuse line. It never waits for the pages: each reads the
// records at its own pace. A line that is not a JSON object is an error
// and is not kept; one that starts and ends as the listener writes its
// records is taken for one without being read through (Add is called
// before each delivery is answered, and bodies may be large).
func (s *Server) Add(line []byte) error {
	seq, ok := lineSeq(line)
	if !ok {
		return errors.New("inspector: a record is a JSON object on one line")
	}
	s.ring.add(seq, bytes.Clone(line))
	return nil
}

// ServeHTTP serves the page, its files, the stream of records
// (GET /events) and replays (POST /replay). A request whose Host is not
// the inspector's address is refused first, whatever it asks for: a page
// of another site that got its name resolved to 127.0.0.1 (DNS
// rebinding) would send its own name.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	h := w.Header()
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("X-Frame-Options", "DENY")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("Cache-Control", "no-store")
	if !s.hostOK(r.Host) {
		http.Error(w, "forbidden: the Host header is not the inspector's address; open "+s.url, http.StatusForbidden)
		return
	}
	s.mux.ServeHTTP(w, r)
}

// contentSecurityPolicy allows the page its own script, style and stream,
// and nothing else: no inline script, no other origin, no frames, no
// forms.
const contentSecurityPolicy = "default-src 'none'; script-src 'self'; style-src 'self'; connect-src 'self'; img-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"

// hostOK reports whether host (a Host header) names the inspector.
func (s *Server) hostOK(host string) bool {
	for _, h := range s.hosts {
		if strings.EqualFold(host, h) {
			return true
		}
	}
	return false
}

// tokenOK reports whether got is the page's token.
func (s *Server) tokenOK(got string) bool {
	return subtle.ConstantTimeCompare([]byte(got), []byte(s.token)) == 1
}

// Serve serves the inspector on ln until ctx is done, then stops within a
// second: the pages' streams end with ctx. It closes ln.
func (s *Server) Serve(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		BaseContext:       func(net.Listener) context.Context { return ctx },
		ErrorLog:          discardLog,
	}
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		srv.Close()
	}
	if err := <-errc; !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

func (s *Server) serveIndex(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(s.page)
}

func (s *Server) serveStatic(w http.ResponseWriter, r *http.Request) {
	name := strings.TrimPrefix(r.URL.Path, "/")
	b, err := pageFiles.ReadFile("page/" + name)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	ct := "text/css; charset=utf-8"
	if strings.HasSuffix(name, ".js") {
		ct = "text/javascript; charset=utf-8"
	}
	w.Header().Set("Content-Type", ct)
	w.Write(b)
}

// serveEvents streams the records as server-sent events: those held, then
// each one as it is added. Each event's id is the record's seq, so a page
// that reconnects (its browser sends Last-Event-ID) gets only what it has
// not seen, as long as the ring still holds the record it saw last. The
// stream starts with a "hello" event naming this run: a page that was fed
// by an earlier run starts afresh.
func (s *Server) serveEvents(w http.ResponseWriter, r *http.Request) {
	if !s.tokenOK(r.URL.Query().Get("token")) {
		http.Error(w, "forbidden: no token, or not this inspector's; reload the page", http.StatusForbidden)
		return
	}
	var next uint64 // the arrival after which to send
	if id := r.Header.Get("Last-Event-ID"); id != "" {
		if seq, err := strconv.ParseInt(id, 10, 64); err == nil {
			next, _ = s.ring.resume(seq)
		}
	}
	rc := http.NewResponseController(w)
	h := w.Header()
	h.Set("Content-Type", "text/event-stream")
	h.Set("X-Accel-Buffering", "no")
	w.WriteHeader(http.StatusOK)
	fmt.Fprintf(w, "retry: 2000\nevent: hello\ndata: {\"instance\":%q}\n\n", s.instance)
	ping := time.NewTicker(pingEvery)
	defer ping.Stop()
	var buf []byte
	var wrote time.Time // when the stream was last written to
	pause := time.NewTimer(0)
	defer pause.Stop()
	for {
		entries, changed := s.ring.after(next)
		for _, e := range entries {
			buf = appendEvent(buf[:0], e)
			rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
			if _, err := w.Write(buf); err != nil {
				return
			}
			next = e.n
		}
		rc.SetWriteDeadline(time.Now().Add(streamWriteTimeout))
		if err := rc.Flush(); err != nil {
			return
		}
		wrote = time.Now()
		select {
		case <-changed:
			if wait := time.Until(wrote.Add(streamEvery)); wait > 0 {
				pause.Reset(wait)
				select {
				case <-pause.C:
				case <-r.Context().Done():
					return
				}
			}
		case <-ping.C:
			if _, err := io.WriteString(w, ": ping\n\n"); err != nil {
				return
			}
		case <-r.Context().Done():
			return
		}
	}
}

// appendEvent appends e to b as a server-sent event named "record". A
// record is one line; should one hold a line break (whitespace between
// JSON tokens), each of its lines goes into a data field of its own, which
// the browser joins with new lines: the same JSON.
func appendEvent(b []byte, e *entry) []byte {
	b = append(b, "id: "...)
	b = strconv.AppendInt(b, e.seq, 10)
	b = append(b, "\nevent: record\n"...)
	line := e.line
	for {
		i := bytes.IndexAny(line, "\r\n")
		if i < 0 {
			break
		}
		b = append(b, "data: "...)
		b = append(b, line[:i]...)
		b = append(b, '\n')
		line = line[i+1:]
	}
	b = append(b, "data: "...)
	b = append(b, line...)
	return append(b, "\n\n"...)
}

// replayRequest is the body of POST /replay.
type replayRequest struct {
	Seq int64  `json:"seq"`
	To  string `json:"to"`
}

// replayAnswer is the answer of POST /replay.
type replayAnswer struct {
	Status  int    `json:"status"`            // the target's status; 0 when it did not answer
	Latency string `json:"latency,omitempty"` // e.g. "12.4ms"
	Target  string `json:"target,omitempty"`  // where it was sent
	Error   string `json:"error,omitempty"`   // why it was not sent or not answered
}

// serveReplay re-sends the delivery of a held record through Config.Replay.
// Only the page may ask: the request must carry the page's token in
// TokenHeader, come from the inspector's own origin (Sec-Fetch-Site,
// Origin) and have a JSON body, which a cross-site form cannot send.
func (s *Server) serveReplay(w http.ResponseWriter, r *http.Request) {
	if err := s.cop.Check(r); err != nil {
		answer(w, http.StatusForbidden, replayAnswer{Error: "forbidden: a cross-origin request"})
		return
	}
	if !s.tokenOK(r.Header.Get(TokenHeader)) {
		answer(w, http.StatusForbidden, replayAnswer{Error: "forbidden: no token, or not this inspector's; reload the page"})
		return
	}
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		answer(w, http.StatusUnsupportedMediaType, replayAnswer{Error: "the request must be JSON (Content-Type: application/json)"})
		return
	}
	var req replayRequest
	dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxReplayRequest))
	if err := dec.Decode(&req); err != nil || req.Seq <= 0 {
		answer(w, http.StatusBadRequest, replayAnswer{Error: `the request must be {"seq": N, "to": "URL"}`})
		return
	}
	line, ok := s.ring.line(req.Seq)
	if !ok {
		answer(w, http.StatusNotFound, replayAnswer{Error: fmt.Sprintf("delivery #%d is no longer held by the inspector; replay it from the --save file with jwh replay", req.Seq)})
		return
	}
	raw := strings.TrimSpace(req.To)
	if raw == "" {
		raw = s.cfg.ReplayTarget
	}
	if raw == "" {
		answer(w, http.StatusBadRequest, replayAnswer{Error: "no target: type the URL to replay to (or start jwh listen with --forward-to)"})
		return
	}
	u, err := urlpolicy.ParseTargetURL(raw)
	if err != nil {
		answer(w, http.StatusBadRequest, replayAnswer{Error: fmt.Sprintf("invalid target %q: %s", urlpolicy.Redacted(raw), urlpolicy.Reason(err))})
		return
	}
	target := u.String()
	if s.cfg.Replay == nil {
		answer(w, http.StatusNotImplemented, replayAnswer{Target: target, Error: "replay is not available in this jwh"})
		return
	}
	select {
	case s.replays <- struct{}{}:
		defer func() { <-s.replays }()
	default:
		answer(w, http.StatusTooManyRequests, replayAnswer{Target: target, Error: fmt.Sprintf("%d replays are in progress already: wait for one to end", maxReplaysAtOnce)})
		return
	}
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ReplayTimeout)
	defer cancel()
	res, err := s.cfg.Replay(ctx, line, u)
	if res.Target != "" {
		target = res.Target
	}
	a := replayAnswer{Status: res.Status, Target: target}
	if res.Latency > 0 {
		a.Latency = roundLatency(res.Latency).String()
	}
	if err != nil {
		a.Error = err.Error()
	}
	answer(w, http.StatusOK, a)
}

// answer writes a as JSON with status.
func answer(w http.ResponseWriter, status int, a replayAnswer) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	json.NewEncoder(w).Encode(a)
}

// roundLatency keeps three significant digits or so: 12.4ms, 1.23s.
func roundLatency(d time.Duration) time.Duration {
	switch {
	case d >= time.Second:
		return d.Round(10 * time.Millisecond)
	case d >= 10*time.Millisecond:
		return d.Round(100 * time.Microsecond)
	case d >= time.Millisecond:
		return d.Round(10 * time.Microsecond)
	}
	return d.Round(time.Microsecond)
}

func randomHex(n int) string {
	b := make([]byte, n)
	rand.Read(b)
	return hex.EncodeToString(b)
}
