package listen

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/textproto"
	"net/url"
	"strings"
	"time"
)

// newForwardClient returns the client that forwards deliveries: bounded in
// time, not following redirects (Jira does not; a 3xx is relayed as the
// failure it is to Jira), and keeping enough idle connections to the local
// app for bursts of concurrent deliveries.
func newForwardClient(timeout time.Duration) *http.Client {
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.MaxIdleConnsPerHost = 64
	t.DisableCompression = true // relay the reply as the app sent it
	t.DialContext = (&net.Dialer{Timeout: 5 * time.Second, KeepAlive: 30 * time.Second}).DialContext
	return &http.Client{
		Transport: t,
		Timeout:   timeout,
		CheckRedirect: func(*http.Request, []*http.Request) error {
			return http.ErrUseLastResponse
		},
	}
}

// forwardURL returns where a delivery that arrived at u is forwarded.
func (s *Server) forwardURL(u *url.URL) string {
	return Retarget(s.cfg.ForwardTo, u).String()
}

// Retarget returns where a request that arrived at received goes when it
// is sent on to target (--forward-to, jwh replay --to): a target without a
// path gets the request on the path (and query) it arrived with; one with
// a path gets it there, with the request's query when it has none of its
// own.
func Retarget(target, received *url.URL) *url.URL {
	t := *target
	if t.Path == "" && t.RawPath == "" {
		t.Path, t.RawPath = received.Path, received.RawPath
		t.RawQuery = received.RawQuery
	} else if t.RawQuery == "" {
		t.RawQuery = received.RawQuery
	}
	return &t
}

// hopByHop are the headers that belong to one connection (RFC 9110
// section 7.6.1) and are not forwarded.
var hopByHop = []string{
	"Connection", "Proxy-Connection", "Keep-Alive", "Proxy-Authenticate",
	"Proxy-Authorization", "Te", "Trailer", "Transfer-Encoding", "Upgrade",
}

// ForwardHeader returns a copy of h, the header of a request received,
// without the headers that belong to one connection (RFC 9110 section
// 7.6.1): those hopByHop names and those its Connection header names.
// It is what a request sent on carries: --forward-to and jwh replay send
// deliveries with it. It never returns nil.
func ForwardHeader(h http.Header) http.Header {
	out := h.Clone()
	if out == nil {
		out = http.Header{}
	}
	for _, c := range h.Values("Connection") {
		for _, name := range strings.Split(c, ",") {
			if name = textproto.TrimString(name); name != "" {
				out.Del(name)
			}
		}
	}
	for _, name := range hopByHop {
		out.Del(name)
	}
	return out
}

// A forwardReply is what Jira is answered after a forward: the app's
// status and reply, or 502 when the app did not answer.
type forwardReply struct {
	status          int
	contentType     string
	contentEncoding string
	body            []byte
	failed          bool // the app did not answer: 502 with a generic body
}

// write answers Jira with the reply.
func (f *forwardReply) write(w http.ResponseWriter) {
	if f.failed {
		// The error names the app's address: it is for the developer
		// (the event), not for whoever sent the delivery.
		http.Error(w, "the app did not answer", http.StatusBadGateway)
		return
	}
	if f.contentType != "" {
		w.Header().Set("Content-Type", f.contentType)
	}
	if f.contentEncoding != "" {
		w.Header().Set("Content-Encoding", f.contentEncoding)
	}
	w.WriteHeader(f.status)
	w.Write(f.body)
}

// forward sends the delivery d, which arrived as r, to target (d.ForwardTo
// with its token, if any) with its body and headers unchanged, reports a
// *Forwarded and returns what Jira is to be answered: the app's status and
// reply, or 502 when the app does not answer.
func (s *Server) forward(r *http.Request, d *Delivery, target string) *forwardReply {
	s.forwarded.Add(1)
	ctx, cancel := context.WithTimeout(r.Context(), s.cfg.ForwardTimeout)
	defer cancel()
	ev := &Forwarded{Identifier: d.Identifier, URL: d.ForwardTo, Delivery: d}
	req, err := http.NewRequestWithContext(ctx, r.Method, target, bytes.NewReader(d.Body))
	if err == nil {
		req.Header = ForwardHeader(r.Header)
		req.ContentLength = int64(len(d.Body))
		start := time.Now()
		var resp *http.Response
		resp, err = s.client.Do(req)
		if err == nil {
			var reply []byte
			reply, err = io.ReadAll(io.LimitReader(resp.Body, maxForwardReply))
			resp.Body.Close()
			ev.Latency = time.Since(start)
			if err == nil {
				ev.Status, ev.Answered = resp.StatusCode, resp.StatusCode
				ev.Body = bytes.Clone(reply[:min(len(reply), MaxForwardReplyShown)])
				ev.Time = s.now()
				if !ev.OK() {
					s.forwardFailed.Add(1)
				}
				s.cfg.OnEvent(ev)
				return &forwardReply{
					status:          resp.StatusCode,
					contentType:     resp.Header.Get("Content-Type"),
					contentEncoding: resp.Header.Get("Content-Encoding"),
					body:            reply,
				}
			}
			err = fmt.Errorf("reading the reply: %w", err)
		} else {
			ev.Latency = time.Since(start)
		}
	}
	ev.Time = s.now()
	ev.Answered = http.StatusBadGateway
	ev.Err = err
	s.forwardFailed.Add(1)
	s.cfg.OnEvent(ev)
	return &forwardReply{status: http.StatusBadGateway, failed: true}
}
