package listencmd

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/jira"
	"github.com/jwh-cli/jwh/internal/output"
	"github.com/jwh-cli/jwh/internal/tenant"
	"github.com/jwh-cli/jwh/internal/transport"
)

// cleanupTimeout bounds the deletion of the session's webhook once the
// listener has stopped: the user is waiting for the prompt.
const cleanupTimeout = 30 * time.Second

// sessionURL is the URL the session's webhook is registered with: the
// public URL, with the listener's path when it has no path of its own.
func sessionURL(public, path string) (string, error) {
	u, err := url.Parse(public)
	if err != nil || u.Host == "" || (u.Scheme != "https" && u.Scheme != "http") {
		return "", fmt.Errorf("want the tunnel's https:// URL, such as https://abcd.ngrok.app")
	}
	if u.Path == "" || u.Path == "/" {
		u.Path, u.RawPath = path, ""
	}
	return u.String(), nil
}

// A session is the webhook that jwh listen --register keeps for as long
// as it listens: registered once the listener is ready, deleted when it
// stops. It is recognised afterwards by its URL alone, as Jira keeps no
// other mark: every webhook of the tenant with the session's URL is taken
// for one left by an earlier session that did not stop cleanly (a kill,
// a crash, a lost network).
type session struct {
	client *jira.Client
	tenant *tenant.Tenant
	req    jira.RegisterRequest
	write  func(msg string) // a line on standard error, through the renderer

	done chan struct{} // closed when the registration has ended
	mu   sync.Mutex
	id   int64 // the registered webhook, 0 until then
	err  error // why the registration failed
}

// newSession prepares the session's webhook before the listener starts:
// it checks the tenant's webhooks for ones left by an earlier session
// (deleting them with --yes or when the user says so, else saying how),
// and for webhooks with another URL, which Jira's one-URL-per-app rule
// would make it refuse the session's.
func newSession(ctx context.Context, opts *Options, callback string) (*session, error) {
	client, t, err := opts.Client()
	if err != nil {
		return nil, err
	}
	hooks, err := client.AllWebhooks(ctx)
	if err != nil {
		return nil, cmdutil.OnTenant(t.Name, err)
	}
	var left []int64
	var others []string
	for _, h := range hooks {
		switch {
		case h.URL == callback:
			left = append(left, h.ID)
		case h.URL != "" && !slices.Contains(others, h.URL):
			others = append(others, h.URL)
		}
	}
	errOut := opts.IO.ErrOut
	warn := opts.IO.ColorScheme().WarningIcon()
	if len(left) > 0 {
		what := fmt.Sprintf("%s %s for %s, left by an earlier 'jwh listen --register' that did not stop cleanly",
			output.Plural(len(left), "webhook"), output.JoinIDs(left), callback)
		del := opts.Yes
		if !del && opts.IO.CanPrompt() {
			if del, err = opts.IO.Confirm(fmt.Sprintf("Tenant %s has %s. Delete it now?", t.Name, what)); err != nil {
				return nil, err
			}
		}
		switch {
		case del:
			if err := client.DeleteWebhooks(ctx, left); err != nil {
				return nil, cmdutil.OnTenant(t.Name, fmt.Errorf("deleting the left-over %s: %w", output.Plural(len(left), "webhook"), err))
			}
			fmt.Fprintf(errOut, "Deleted %s of tenant %s left by an earlier session: %s\n", output.Plural(len(left), "webhook"), t.Name, output.JoinIDs(left))
		default:
			fmt.Fprintf(errOut, "%s tenant %s has %s; delete it with: jwh delete %s --tenant %s (or start with --yes)\n",
				warn, t.Name, what, joinIDs(left, " "), t.Name)
		}
	}
	if len(others) > 0 {
		return nil, cmdutil.OnTenant(t.Name, fmt.Errorf("the app's webhooks on this tenant use %s, and Jira allows one callback URL per app: it would refuse a webhook for %s; delete them first ('jwh list', 'jwh delete'), or register your webhooks with that URL and listen behind it without --register",
			strings.Join(others, ", "), callback))
	}
	return &session{client: client, tenant: t, req: *sessionRequest(opts, callback), done: make(chan struct{})}, nil
}

// joinIDs formats ids separated by sep.
func joinIDs(ids []int64, sep string) string {
	return strings.ReplaceAll(output.JoinIDs(ids), ", ", sep)
}

// register registers the session's webhook, once the listener is ready,
// and reports on standard error; stop is called when it fails, to end the
// listener. It runs to its end even when the listener is told to stop
// meanwhile, so that a webhook that was registered is known, and deleted.
func (s *session) register(ctx context.Context, stop func()) {
	defer close(s.done)
	ctx = context.WithoutCancel(ctx)
	results, err := s.client.RegisterWebhooks(ctx, s.req)
	var lost *transport.Error
	if errors.As(err, &lost) && lost.Sent {
		// The registration may have landed: look for it.
		if id, lerr := s.find(ctx); lerr == nil && id != 0 {
			results, err = []jira.RegistrationResult{{ID: id}}, nil
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	switch {
	case err != nil:
		s.err = cmdutil.OnTenant(s.tenant.Name, fmt.Errorf("registering the session's webhook: %w", err))
	case len(results) != 1 || results[0].ID == 0:
		why := "no reason given"
		if len(results) == 1 && len(results[0].Errors) > 0 {
			why = strings.Join(results[0].Errors, "; ")
		}
		s.err = cmdutil.OnTenant(s.tenant.Name, fmt.Errorf("jira refused the session's webhook for %s: %s", s.req.URL, why))
	default:
		s.id = results[0].ID
		w := s.req.Webhooks[0]
		s.write(fmt.Sprintf("Registered webhook %d on tenant %s for this session: %s, %s, %s (deleted when jwh listen stops)\n",
			s.id, s.tenant.Name, s.req.URL, strings.Join(w.Events, ","), w.JQLFilter))
		return
	}
	stop()
}

// find returns the id of a webhook with the session's URL, filter and
// events, after a registration whose answer was lost; 0 when there is
// none.
func (s *session) find(ctx context.Context) (int64, error) {
	hooks, err := s.client.AllWebhooks(ctx)
	if err != nil {
		return 0, err
	}
	w := s.req.Webhooks[0]
	var id int64
	for _, h := range hooks {
		if h.URL == s.req.URL && h.JQLFilter == w.JQLFilter && slices.Equal(h.Events, w.Events) && h.ID > id {
			id = h.ID
		}
	}
	return id, nil
}

// finish waits for the registration to end and deletes the webhook it
// registered, telling on standard error (directly: the renderer has
// printed its summary). A deletion that fails says how to delete it by
// hand; it changes nothing of the exit status. It returns the
// registration's error, if any.
func (s *session) finish(ctx context.Context, errOut func(string)) error {
	<-s.done
	s.mu.Lock()
	id, err := s.id, s.err
	s.mu.Unlock()
	if id == 0 {
		return err
	}
	dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), cleanupTimeout)
	defer cancel()
	if derr := s.client.DeleteWebhooks(dctx, []int64{id}); derr != nil {
		errOut(fmt.Sprintf("jwh: could not delete the session's webhook %d of tenant %s: %v; delete it with: jwh delete %d --tenant %s\n",
			id, s.tenant.Name, derr, id, s.tenant.Name))
		return nil
	}
	errOut(fmt.Sprintf("Deleted the session's webhook %d of tenant %s\n", id, s.tenant.Name))
	return nil
}
