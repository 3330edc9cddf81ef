package sandbox

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/jwh-cli/jwh/internal/events"
)

// TriggerPath is the sandbox's own endpoint, relative to a tenant's base
// URL, that triggers an event: POST a TriggerRequest, signed like every
// other request (so only the app, with the tenant's shared secret, can),
// and get the TriggerResult once the deliveries have ended or the wait is
// over. Jira has no such endpoint; jwh trigger uses it.
const TriggerPath = "/rest/jwh-sandbox/1/trigger"

// How long the trigger endpoint waits for the deliveries before it
// answers with those still pending.
const (
	DefaultTriggerWait = 20 * time.Second
	// MaxTriggerWait stays below the per-attempt timeout of jwh's client.
	MaxTriggerWait = 25 * time.Second
)

// TriggerRequest is the body of POST {base}/rest/jwh-sandbox/1/trigger:
// an Event and how long to wait for its deliveries.
type TriggerRequest struct {
	Event
	// WaitSeconds is how long to wait for the deliveries to end; 0 means
	// DefaultTriggerWait, and it is capped at MaxTriggerWait.
	WaitSeconds float64 `json:"waitSeconds,omitempty"`
}

func (s *Server) admin(r *http.Request, t *Tenant) response {
	if r.Method != http.MethodPost {
		return methodNotAllowed(r, "POST")
	}
	var req TriggerRequest
	if resp := readJSON(r, &req); resp != nil {
		return *resp
	}
	if req.Name == "" {
		return jiraError(http.StatusBadRequest, "The event is required, such as jira:issue_updated.")
	}
	if req.WaitSeconds < 0 {
		return jiraError(http.StatusBadRequest, "waitSeconds must not be negative.")
	}
	tr, err := t.Trigger(req.Event)
	if err != nil {
		var unknown *events.UnknownError
		if errors.As(err, &unknown) {
			return jiraError(http.StatusBadRequest, unknown.Error())
		}
		return jiraError(http.StatusInternalServerError, err.Error())
	}
	wait := DefaultTriggerWait
	if req.WaitSeconds > 0 {
		wait = min(time.Duration(req.WaitSeconds*float64(time.Second)), MaxTriggerWait)
	}
	ctx, cancel := context.WithTimeout(r.Context(), wait)
	defer cancel()
	res, _ := tr.Wait(ctx) // an incomplete result says what is still pending
	return jsonResponse(http.StatusOK, res)
}
