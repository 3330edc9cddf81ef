package listen

import (
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"

	"github.com/jwh-cli/jwh/internal/connectjwt"
)

// Jira sends the deliveries of an OAuth 2.0 (3LO) app's webhooks with
// "Authorization: Bearer <JWT>": HS256, signed with the app's client
// secret. Its claims are not documented and it has no qsh, so what can be
// checked is what receivers in the wild check: the algorithm (exactly
// HS256), the signature with the client secret of an OAuth tenant, and
// exp and iat when the token has them, with the leeway of Connect tokens.
// The tenant whose client id is the token's aud, when it has one, is
// tried first, then every other OAuth tenant by name.

// OAuthSecrets finds the client secrets that Jira signs the deliveries of
// OAuth 2.0 apps with. Its methods are called for every Bearer delivery,
// from many goroutines at once.
type OAuthSecrets interface {
	// OAuthTenants returns the OAuth tenants listened for, sorted by name.
	OAuthTenants() []OAuthTenant
	// ClientSecret returns the client secret of the OAuth tenant called
	// name, with the errors of Secrets.Lookup: one wrapping
	// ErrSecretUnavailable for a secret that cannot be read now (the
	// delivery is answered 503 unless another tenant's secret verifies
	// it), any other for a tenant with no secret stored (its text should
	// say how to fix it).
	ClientSecret(name string) ([]byte, error)
}

// An OAuthTenant is a tenant whose OAuth 2.0 app's deliveries the
// listener verifies.
type OAuthTenant struct {
	Name     string
	ClientID string // the aud the sandbox signs; "" when unknown
}

// bearerToken returns the credentials of r's "Authorization: Bearer"
// header, and whether it has one.
func bearerToken(r *http.Request) (string, bool) {
	scheme, tok, _ := strings.Cut(strings.TrimSpace(r.Header.Get("Authorization")), " ")
	if !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	return strings.TrimSpace(tok), true
}

// verifyBearer checks token, the Bearer JWT of a delivery to an OAuth 2.0
// app, and returns the name of the OAuth tenant whose client secret
// signed it, or why it was refused. It is the Bearer counterpart of
// verify, and like it decides on the headers alone; the token is read,
// its signature and its dates checked, by connectjwt's rules, as a
// Connect JWT's are.
func (s *Server) verifyBearer(token string) (tenant string, f *failure) {
	refuse := func(check connectjwt.Check, format string, args ...any) *failure {
		f := &failure{status: http.StatusUnauthorized, check: string(check), reason: fmt.Sprintf(format, args...)}
		if check == connectjwt.CheckMissing {
			f.answer = "no JWT"
		} else {
			f.answer = "invalid JWT: " + string(check)
		}
		return f
	}
	if token == "" {
		return "", refuse(connectjwt.CheckMissing, `no JWT: expected an "Authorization: Bearer <token>" header with a JWT`)
	}
	t, err := connectjwt.ParseToken(token)
	if err != nil {
		return "", refuse(connectjwt.CheckMalformed, "malformed Bearer JWT: %v", err)
	}
	if alg := t.Alg(); alg != "HS256" {
		return "", refuse(connectjwt.CheckAlg, "algorithm %q refused: only HS256 is accepted", alg)
	}
	var tenants []OAuthTenant
	if s.cfg.OAuth != nil {
		tenants = s.cfg.OAuth.OAuthTenants()
	}
	if len(tenants) == 0 {
		return "", &failure{status: http.StatusUnauthorized, check: CheckSecret, answer: "cannot verify the JWT",
			reason: "a Bearer JWT, as Jira signs the deliveries of OAuth 2.0 apps, but no OAuth 2.0 tenant is listened for: log in to the app with 'jwh tenant login' (with --tenant, choose an OAuth 2.0 tenant), or run with --no-verify"}
	}
	var tried []string
	var unavailable, missing error
	for _, ot := range bearerOrder(tenants, t.Audience()) {
		secret, err := s.cfg.OAuth.ClientSecret(ot.Name)
		if err == nil && len(secret) == 0 {
			err = fmt.Errorf("the client secret of tenant %q is empty", ot.Name)
		}
		switch {
		case errors.Is(err, ErrSecretUnavailable):
			unavailable = cmpErr(unavailable, err)
			continue
		case err != nil:
			missing = cmpErr(missing, err)
			continue
		}
		tried = append(tried, ot.Name)
		if t.SignedWith(s.keys.get(secret)) {
			tenant = ot.Name
			break
		}
	}
	if tenant == "" {
		switch {
		case unavailable != nil:
			// It may be the one: Jira retries a 503.
			return "", &failure{status: http.StatusServiceUnavailable, check: CheckSecret, reason: unavailable.Error(),
				answer: "cannot verify the JWT now: try again later"}
		case len(tried) == 0:
			return "", &failure{status: http.StatusUnauthorized, check: CheckSecret, reason: missing.Error(), answer: "cannot verify the JWT"}
		}
		f := refuse(connectjwt.CheckSignature, "bad signature: the Bearer JWT was not signed with the client secret of %s", triedNames(tried))
		if missing != nil {
			f.reason += "; and " + missing.Error()
		}
		f.reason += ": if the app's client secret changed, log in again with the new one"
		return "", f
	}
	if err := t.CheckDates(s.now(), s.cfg.Leeway); err != nil {
		check := connectjwt.CheckMalformed
		var ve *connectjwt.VerifyError
		if errors.As(err, &ve) {
			check = ve.Check // exp or iat
		}
		return "", refuse(check, "%v", err)
	}
	return tenant, nil
}

// bearerOrder returns the tenants in the order their secrets are tried:
// those whose client id is in aud first, then the others, each by name.
func bearerOrder(tenants []OAuthTenant, aud []string) []OAuthTenant {
	if len(aud) == 0 {
		return tenants
	}
	ordered := make([]OAuthTenant, 0, len(tenants))
	for _, t := range tenants {
		if t.ClientID != "" && slices.Contains(aud, t.ClientID) {
			ordered = append(ordered, t)
		}
	}
	for _, t := range tenants {
		if t.ClientID == "" || !slices.Contains(aud, t.ClientID) {
			ordered = append(ordered, t)
		}
	}
	return ordered
}

// cmpErr keeps the first error seen.
func cmpErr(first, err error) error {
	if first != nil {
		return first
	}
	return err
}

// triedNames says which tenants' secrets a token was checked against.
func triedNames(names []string) string {
	if len(names) == 1 {
		return fmt.Sprintf("tenant %q", names[0])
	}
	quoted := make([]string, len(names))
	for i, n := range names {
		quoted[i] = fmt.Sprintf("%q", n)
	}
	return "any of the tenants " + strings.Join(quoted, ", ")
}
