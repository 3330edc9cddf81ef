package listencmd

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"

	"github.com/jwh-cli/jwh/internal/tenant"
)

// The OAuth tenant of the tests: work, logged in with the app whose
// client id is workClientID; its bundle is in the keyring.
const (
	workClientID     = "work-client-id-0123456789"
	workClientSecret = "CLIENT-SECRET-of-work-9c1f"
)

// addOAuth adds the OAuth tenant work to the harness's config, with its
// bundle in the keyring.
func (h *harness) addOAuth(t *testing.T) {
	t.Helper()
	cfg, err := tenant.LoadConfig(h.cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	work := tenant.Tenant{Name: "work", Kind: tenant.KindOAuth, ClientID: workClientID, CloudID: "0b4c-cloud",
		SiteURL: "https://work.atlassian.net", Storage: tenant.StorageKeyring}
	err = cfg.Update(context.Background(), func(c *tenant.Config) error {
		c.Put(work)
		return c.Resolver(h.store, nil, "").SaveOAuth(&work, &tenant.OAuthSecrets{
			ClientSecret: workClientSecret, AccessToken: "ACCESS-TOKEN-of-work", AccessExpiry: h.clock().Add(time.Hour),
			RefreshToken: "REFRESH-TOKEN-of-work", LoginAt: h.clock(),
		})
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		for _, s := range []string{h.out.String(), h.errOut.String()} {
			for _, secret := range []string{workClientSecret, "ACCESS-TOKEN-of-work", "REFRESH-TOKEN-of-work"} {
				if strings.Contains(s, secret) {
					t.Errorf("a secret of tenant work was printed")
				}
			}
		}
	})
}

// bearer signs a delivery's token as the sandbox does for the OAuth app
// with secret, issued at the listener's time plus skew.
func (h *harness) bearer(t *testing.T, secret string, skew time.Duration) string {
	t.Helper()
	iat := h.clock().Add(skew)
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, jwt.MapClaims{
		"iss": "jira:0b4c-cloud", "aud": workClientID, "sub": "5b10a2844c20165700ede21g",
		"iat": iat.Unix(), "exp": iat.Add(3 * time.Minute).Unix(), "context": map[string]string{"cloudId": "0b4c-cloud"},
	}).SignedString([]byte(secret))
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// TestListenOAuth: jwh listen verifies the Bearer deliveries of an OAuth
// tenant with its client secret, read from where its login stored it the
// first time a delivery needs it, beside the Connect tenants' deliveries;
// --show-claims prints the token of each, both kinds.
func TestListenOAuth(t *testing.T) {
	h := newHarness(t)
	h.addOAuth(t)
	store := &downStore{SecretStore: h.store}
	h.store = store
	r := h.start(t, "--quiet", "--show-claims")
	if n := store.calls.Load(); n != 0 {
		t.Errorf("the keyring was read %d times before any delivery", n)
	}
	for _, d := range []struct {
		id     string
		d      delivery
		status int
	}{
		{"oauth", delivery{bearer: h.bearer(t, workClientSecret, 0)}, 200},
		{"connect", delivery{signer: h.jira(acmeKey, "acme", "/")}, 200},
		{"wrong-secret", delivery{bearer: h.bearer(t, "not-the-client-secret", 0)}, 401},
		{"expired", delivery{bearer: h.bearer(t, workClientSecret, -10*time.Minute)}, 401},
	} {
		d.d.body, d.d.identifier = payload("PRJ-1"), d.id
		if status, _ := r.send(t, d.d); status != d.status {
			t.Errorf("%s: status %d, want %d", d.id, status, d.status)
		}
	}
	r.stop()
	out := h.out.String()
	for _, want := range []string{
		"id oauth  ✓ verified (oauth tenant work)\n  token: Bearer {\"alg\":\"HS256\",\"typ\":\"JWT\"}\n  claims: {\"aud\":\"" + workClientID + "\",\"context\":{\"cloudId\":\"0b4c-cloud\"},\"exp\":",
		",\"iss\":\"jira:0b4c-cloud\",\"sub\":\"5b10a2844c20165700ede21g\"}  (iat 09:30:15, exp 09:33:15)\n",
		"id connect  ✓ verified (acme)\n  token: JWT {\"alg\":\"HS256\",\"typ\":\"JWT\"}\n  claims: {",
		`id wrong-secret  ✗ 401 signature: bad signature: the Bearer JWT was not signed with the client secret of tenant "work": if the app's client secret changed, log in again with the new one` + "\n  token: Bearer ",
		"id expired  ✗ 401 exp: expired at ",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("stdout lacks %q:\n%s", want, out)
		}
	}
	if !strings.Contains(h.errOut.String(), "  verifying the Bearer JWT of each delivery to an OAuth 2.0 app: HS256, signed with the client secret of tenant work\n") {
		t.Errorf("Ready does not name the OAuth tenant:\n%s", h.errOut)
	}
	// One read of the bundle for the OAuth deliveries, one of acme's secret.
	if n := store.calls.Load(); n != 2 {
		t.Errorf("the keyring was read %d times, want 2", n)
	}
}

// TestListenOAuthJSON: with --json, standard output carries the payloads
// only, and the tokens of --show-claims go to standard error.
func TestListenOAuthJSON(t *testing.T) {
	h := newHarness(t)
	h.addOAuth(t)
	r := h.start(t, "--json", "--show-claims")
	if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "oauth", bearer: h.bearer(t, workClientSecret, 0)}); status != 200 {
		t.Errorf("status %d", status)
	}
	r.stop()
	if got := h.out.String(); got != string(payload("PRJ-1"))+"\n" {
		t.Errorf("stdout %q, want the payload only", got)
	}
	if !strings.Contains(h.errOut.String(), "PRJ-1  Alice Smith  webhooks 1000,1001  id oauth\n  token: Bearer {\"alg\":\"HS256\",\"typ\":\"JWT\"}\n  claims: {\"aud\":") {
		t.Errorf("stderr lacks the token:\n%s", h.errOut)
	}
}

// TestListenOAuthOnly: a config of OAuth tenants only, or --tenant naming
// one, verifies their Bearer deliveries; Connect deliveries are refused
// with a reason that says why. The client secret may come from
// JWH_CLIENT_SECRET, for the selected tenant.
func TestListenOAuthOnly(t *testing.T) {
	for _, only := range []string{"config", "flag"} {
		t.Run(only, func(t *testing.T) {
			h := newHarness(t)
			h.addOAuth(t)
			args := []string{"--quiet"}
			if only == "config" {
				cfg, err := tenant.LoadConfig(h.cfgPath)
				if err != nil {
					t.Fatal(err)
				}
				err = cfg.Update(context.Background(), func(c *tenant.Config) error {
					for _, name := range []string{"acme", "globex", "beta"} {
						if err := c.Remove(name); err != nil {
							return err
						}
					}
					return nil
				})
				if err != nil {
					t.Fatal(err)
				}
				h.env[tenant.EnvClientSecret] = "from-the-environment"
			} else {
				args = append(args, "-t", "work")
			}
			r := h.start(t, args...)
			secret := workClientSecret
			if only == "config" {
				secret = "from-the-environment" // the only tenant is the selected one
			}
			if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "oauth", bearer: h.bearer(t, secret, 0)}); status != 200 {
				t.Errorf("the OAuth delivery: status %d", status)
			}
			if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "connect", signer: h.jira(acmeKey, "acme", "/")}); status != 401 {
				t.Errorf("the Connect delivery: status %d", status)
			}
			r.stop()
			want := map[string]string{
				"config": `id connect  ✗ 401 iss: unknown issuer "` + acmeKey + `": a Connect JWT, but no Connect tenant is listened for (only the OAuth 2.0 tenant work); import the site's installed payload with 'jwh tenant import'`,
				"flag":   `id connect  ✗ 401 iss: unknown issuer "` + acmeKey + `": it is the client key of tenant "acme", but only tenant "work" is listened for (--tenant)`,
			}[only]
			if out := h.out.String(); !strings.Contains(out, "id oauth  ✓ verified (oauth tenant work)\n") || !strings.Contains(out, want+"\n") {
				t.Errorf("stdout:\n%s\nwant the OAuth delivery verified and %q", out, want)
			}
			if errOut := h.errOut.String(); strings.Contains(errOut, "qsh relative") {
				t.Errorf("Ready speaks of Connect tenants:\n%s", errOut)
			}
		})
	}
}

// TestListenOAuthSecretMissing: an OAuth tenant whose login is not stored
// gets 401 with the words of the Resolver; a keyring that cannot be read,
// 503.
func TestListenOAuthSecretMissing(t *testing.T) {
	h := newHarness(t)
	h.addOAuth(t)
	store := &downStore{SecretStore: h.store}
	h.store = store
	r := h.start(t, "--quiet", "-t", "work")
	store.down.Store(true)
	if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "down", bearer: h.bearer(t, workClientSecret, 0)}); status != 503 {
		t.Errorf("keyring down: status %d, want 503", status)
	}
	store.down.Store(false)
	if err := h.store.Delete("work"); err != nil {
		t.Fatal(err)
	}
	h.advance(retryFailedSecret + time.Second)
	if status, _ := r.send(t, delivery{body: payload("PRJ-1"), identifier: "gone", bearer: h.bearer(t, workClientSecret, 0)}); status != 401 {
		t.Errorf("no login: status %d, want 401", status)
	}
	r.stop()
	for _, want := range []string{
		"id down  ✗ 503 secret: keyring unavailable",
		`id gone  ✗ 401 secret: no login stored for tenant "work" in the keyring (service jwh, user work): log in with 'jwh tenant login work --client-id ` + workClientID + `'`,
	} {
		if !strings.Contains(h.out.String(), want) {
			t.Errorf("stdout lacks %q:\n%s", want, h.out)
		}
	}
}
