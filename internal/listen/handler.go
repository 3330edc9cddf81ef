package listen

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

// ServeHTTP handles one request. In order: the path (404), the method
// (405), the body size (413), the JWT (401, unless NoVerify), the body as a
// JSON object (400), the identifier (a retry of an accepted delivery is a
// duplicate, answered 200), then the delivery is reported and answered 200,
// or forwarded and answered with the app's status.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.inflight.Add(1)
	defer s.inflight.Add(-1)
	s.requests.Add(1)
	now := s.now()
	id := r.Header.Get(HeaderIdentifier)
	retry := parseRetry(r.Header.Get(HeaderRetry))

	reject := func(status int, check, reason string, meta Meta) {
		if status == http.StatusUnauthorized {
			s.rejected.Add(1)
		} else {
			s.invalid.Add(1)
		}
		s.cfg.OnEvent(&Rejected{
			Time: now, Method: r.Method, RequestURI: r.RequestURI,
			Identifier: id, Retry: retry,
			Status: status, Check: check, Reason: reason, Meta: meta,
		})
		http.Error(w, reason, status)
	}

	if !s.onPath(r.URL.Path) {
		reject(http.StatusNotFound, CheckPath,
			fmt.Sprintf("not found: deliveries are accepted on %s only (--path)", s.cfg.Path), Meta{})
		return
	}
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		reject(http.StatusMethodNotAllowed, CheckMethod,
			fmt.Sprintf("method %s not allowed: Jira delivers webhooks with POST", r.Method), Meta{})
		return
	}
	body, err := s.readBody(w, r)
	if err != nil {
		var tooLarge *http.MaxBytesError
		if errors.As(err, &tooLarge) {
			reject(http.StatusRequestEntityTooLarge, CheckSize,
				fmt.Sprintf("body larger than the limit of %d bytes (--max-body)", s.cfg.MaxBody), Meta{})
			return
		}
		s.errs.Add(1)
		s.cfg.OnEvent(&Error{Time: now, Err: fmt.Errorf("%s %s: reading the body: %w", r.Method, r.RequestURI, err)})
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}

	var issuer, tenant string
	if !s.cfg.NoVerify {
		var lookupErr error
		v, err := connectjwt.Verify(connectjwt.FromRequest(r), connectjwt.VerifyOptions{
			Method:   r.Method,
			URL:      r.URL,
			BasePath: s.cfg.BasePath,
			Secret: func(iss string) ([]byte, bool) {
				name, secret, err := s.cfg.Secrets.Lookup(iss)
				if err == nil && len(secret) == 0 {
					err = fmt.Errorf("the shared secret of tenant %q is empty", name)
				}
				if err != nil {
					lookupErr = err
					return nil, false
				}
				tenant = name
				return secret, true
			},
			Leeway: s.cfg.Leeway,
			Now:    s.now,
		})
		if err != nil {
			check, reason := string(connectjwt.CheckMalformed), err.Error()
			var ve *connectjwt.VerifyError
			if errors.As(err, &ve) {
				check = string(ve.Check)
			}
			if ve != nil && ve.Check == connectjwt.CheckSignature && tenant != "" {
				reason += fmt.Sprintf(" (tenant %q): if the app was reinstalled, its shared secret changed; import the new installed payload with 'jwh tenant import'", tenant)
			}
			if lookupErr != nil {
				// The Secrets' own words: they know why (another
				// tenant than --tenant, a keyring that is locked).
				reason = lookupErr.Error()
				if !errors.Is(lookupErr, ErrUnknownIssuer) {
					check = CheckSecret
				}
			}
			// What the body says helps to tell which delivery failed;
			// it is only shown, never trusted.
			meta, _ := parseMeta(body)
			reject(http.StatusUnauthorized, check, reason, meta)
			return
		}
		issuer = v.Issuer
	}

	meta, err := parseMeta(body)
	if err != nil {
		reject(http.StatusBadRequest, CheckBody, err.Error(), Meta{})
		return
	}

	var key dedupKey
	if id != "" {
		key = makeDedupKey(issuer, id)
		if first, dup := s.seen.add(key, now); dup {
			s.duplicates.Add(1)
			s.cfg.OnEvent(&Duplicate{
				Time: now, Identifier: id, Retry: retry, Meta: meta,
				Verified: !s.cfg.NoVerify, Tenant: tenant, FirstSeen: first,
			})
			w.WriteHeader(http.StatusOK)
			return
		}
	}

	var target string
	if s.cfg.ForwardTo != nil {
		target = s.forwardURL(r.URL)
	}
	s.delivered.Add(1)
	s.cfg.OnEvent(&Delivery{
		Time: now, Method: r.Method, RequestURI: r.RequestURI,
		Body: body, Identifier: id, Retry: retry, Meta: meta,
		Verified: !s.cfg.NoVerify, Issuer: issuer, Tenant: tenant,
		ForwardTo: target,
	})
	if target == "" {
		w.WriteHeader(http.StatusOK)
		return
	}
	if status := s.forward(w, r, target, body, id); status < 200 || status > 299 {
		// Jira will retry: the retry is a new attempt, not a duplicate.
		if id != "" {
			s.seen.remove(key)
		}
	}
}

// onPath reports whether p is the listener's path, ignoring one trailing
// slash.
func (s *Server) onPath(p string) bool {
	return strings.TrimSuffix(p, "/") == s.path
}

// readBody reads the whole body, refusing one larger than MaxBody with an
// *http.MaxBytesError, before reading it when its length is declared.
// Memory grows with the bytes that actually arrive, not with the length a
// client declares, so that slow clients announcing large bodies cannot
// make the listener allocate MaxBody each.
func (s *Server) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	limit := s.cfg.MaxBody
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	if r.ContentLength >= 0 && r.ContentLength <= preallocBody {
		// The usual case: one allocation of the right size. Reading
		// exactly the declared length lets net/http see the end of the
		// body, and so notice when the client goes away.
		buf := make([]byte, r.ContentLength)
		if _, err := io.ReadFull(r.Body, buf); err != nil {
			return nil, err
		}
		return buf, nil
	}
	return io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
}

// parseRetry reads X-Atlassian-Webhook-Retry; absent or unreadable is 0.
func parseRetry(h string) int {
	if h == "" {
		return 0 // a first attempt: no header, and no error to allocate
	}
	n, err := strconv.Atoi(strings.TrimSpace(h))
	if err != nil || n < 0 {
		return 0
	}
	return n
}
