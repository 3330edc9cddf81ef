package listen

import (
	"net"
	"time"
)

// An Event is something the listener reports: *Ready, *Delivery, *Rejected,
// *Duplicate, *Forwarded or *Error. Events are delivered to Config.OnEvent
// synchronously, from the goroutine that handles the request, before Jira
// is answered: once a delivery has been answered, its events have been
// handled.
type Event interface{ event() }

// Ready says that the listener accepts connections. Serve sends it once.
type Ready struct {
	Addr     net.Addr // the address listened on (the port is known even for :0)
	URL      string   // http://ADDR/PATH: what a tunnel must reach (127.0.0.1 for 0.0.0.0 and [::])
	Path     string   // the path deliveries are accepted on
	BasePath string   // the path the qsh is computed relative to
	Verify   bool     // false with NoVerify
	// Loopback is true when Addr is a loopback address, reachable from
	// this machine only. When false, anyone who can reach the machine can
	// send deliveries: worth a warning.
	Loopback bool
	// ForwardTo is the URL deliveries are forwarded to, or "".
	ForwardTo string
}

// Delivery is a delivery that was accepted: verified (or NoVerify), a JSON
// object, and not seen before. With forwarding, a *Forwarded follows it.
type Delivery struct {
	Time   time.Time
	Method string
	// RequestURI is the path and query as received, with the value of a
	// jwt query parameter (a token) written "redacted", as in every
	// event and record.
	RequestURI string
	// Body is the payload exactly as received. Print and forward these
	// bytes; never re-encode them. It counts against MaxInflight until
	// the delivery has been answered: an OnEvent that keeps it longer
	// holds memory outside that bound.
	Body       []byte
	Identifier string // X-Atlassian-Webhook-Identifier, or ""
	Retry      int    // X-Atlassian-Webhook-Retry; 0 on the first attempt
	Meta       Meta

	Verified bool
	Issuer   string // the JWT's iss (the tenant's client key) when a Connect tenant verified it
	Tenant   string // the name of the tenant whose secret verified it
	// Kind is how the tenant signs: KindConnect (a Connect JWT) or
	// KindOAuth (a Bearer JWT with its OAuth 2.0 app's client secret);
	// "" when not verified.
	Kind string
	// Token is the header and claims of the request's token, with
	// Config.ShowClaims; nil otherwise, or when it had none.
	Token *Authorization
	// ForwardTo is the URL the delivery is being forwarded to (a jwt
	// query parameter redacted, as in RequestURI), or "".
	ForwardTo string
	// Respond is the status that Config.Respond answered the delivery
	// with instead of handling it (it is not forwarded), or 0.
	Respond int
	// Attempt is which delivery of its identifier this is, counted for
	// Respond.FailFirst: 1 for the first; 0 when not counted.
	Attempt int
}

// What a request was refused for, in Rejected.Check, besides the JWT
// checks of connectjwt (missing, malformed, alg, iss, signature, exp, iat,
// qsh).
const (
	CheckPath   = "path"   // 404: not the listener's path
	CheckMethod = "method" // 405: not a POST
	CheckSize   = "size"   // 413: larger than MaxBody
	CheckBody   = "body"   // 400: empty, not JSON, or not a JSON object
	// CheckSecret is a known issuer whose shared secret could not be
	// used: 503 when it cannot be read now (a keyring that is locked or
	// down), 401 when there is none.
	CheckSecret = "secret"
	// CheckBusy is a 503: no room in the body budget (MaxInflight) in
	// time.
	CheckBusy = "busy"
)

// Rejected is a request answered with an error status: 401 when the JWT
// failed a check, 400, 404, 405 or 413 when the request is not a delivery,
// 503 when it could not be handled now (Jira retries it).
type Rejected struct {
	Time       time.Time
	Method     string
	RequestURI string // as Delivery.RequestURI
	Identifier string
	Retry      int
	Status     int    // the status Jira was answered with
	Check      string // which check failed: a connectjwt.Check or one of the Check* constants
	Reason     string // why, for a person; the answer's body says less
	// Token is the header and claims of the request's token, with
	// Config.ShowClaims; nil otherwise, or when it had none.
	Token *Authorization
	// Meta is what the body says. It is zero: a request is refused either
	// before its body is read or because the body is not a delivery.
	Meta Meta
}

// Duplicate is a delivery whose identifier was already accepted: a retry of
// a delivery that had succeeded. It is answered 200 and not forwarded.
type Duplicate struct {
	Time       time.Time
	Identifier string
	Retry      int
	Meta       Meta
	// Body is the payload as received, valid only during OnEvent.
	Body      []byte
	Verified  bool
	Tenant    string
	Kind      string    // as Delivery.Kind
	FirstSeen time.Time // when the identifier was first accepted
	// Token is as Delivery.Token.
	Token *Authorization
}

// Forwarded is the outcome of forwarding a delivery to the local app.
type Forwarded struct {
	Time       time.Time
	Identifier string
	URL        string        // where the delivery was sent: Delivery.ForwardTo
	Status     int           // the app's status code; 0 when it did not answer
	Answered   int           // the status Jira was answered with: Status, or 502
	Latency    time.Duration // from sending the request to reading the reply
	// Body is the start of the app's reply (at most MaxForwardReplyShown
	// bytes), worth showing when Status is not 2xx.
	Body []byte
	Err  error // why the app did not answer
	// Delivery is the delivery that was forwarded.
	Delivery *Delivery
}

// OK reports whether the app answered with a 2xx status.
func (f *Forwarded) OK() bool { return f.Err == nil && f.Status >= 200 && f.Status < 300 }

// Error reports a failure that has no answer to go with it: a request
// whose body could not be read, or an error of the HTTP server.
type Error struct {
	Time time.Time
	Err  error
}

func (*Ready) event()     {}
func (*Delivery) event()  {}
func (*Rejected) event()  {}
func (*Duplicate) event() {}
func (*Forwarded) event() {}
func (*Error) event()     {}
