//go:build keyring

package e2e

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"

	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// outcome is what a Resolver said about one tenant, for comparing.
type outcome struct {
	secret, source, err string
	keyringDown         bool
}

func resolve(r *tenant.Resolver, t *tenant.Tenant) outcome {
	if t.IsOAuth() {
		l, err := r.OAuth(t)
		o := outcome{source: l.Stored.Detail + " / " + l.ClientSecretFrom.Detail}
		if l.Secrets != nil {
			o.secret = l.Secrets.AccessToken + " " + l.Secrets.RefreshToken + " " + l.ClientSecret
		}
		if err != nil {
			o.err, o.keyringDown = err.Error(), errors.Is(err, tenant.ErrKeyringDown)
		}
		return o
	}
	s, src, err := r.ConnectSecret(t)
	o := outcome{secret: string(s), source: src.Kind + ": " + src.Detail}
	if err != nil {
		o.err, o.keyringDown = err.Error(), errors.Is(err, tenant.ErrKeyringDown)
	}
	return o
}

// compareReadAhead resolves the secrets of tenants twice: one by one, as
// every command but extend --all-tenants does, then after ReadAhead, as
// extend --all-tenants does. It fails the test on any difference, and
// returns the Secret Service calls of each way, and the outcomes.
func compareReadAhead(t *testing.T, mon *callMonitor, tenants []tenant.Tenant) (oneByOne, ahead map[string]int, want []outcome) {
	t.Helper()
	store := tenant.NewKeyring(tenant.DefaultKeyringTimeout)
	noEnv := func(string) string { return "" }
	mon.Count(t)
	plain := &tenant.Resolver{Store: store, Getenv: noEnv}
	for i := range tenants {
		want = append(want, resolve(plain, &tenants[i]))
	}
	oneByOne = mon.Count(t)

	r := &tenant.Resolver{Store: store, Getenv: noEnv}
	var order []int
	for i := range r.ReadAhead(context.Background(), tenants, 8) {
		order = append(order, i)
	}
	if got := slices.Sorted(slices.Values(order)); len(got) != len(tenants) || got[0] != 0 || got[len(got)-1] != len(tenants)-1 {
		t.Fatalf("ReadAhead handed out %v, want every tenant once", order)
	}
	for i := range tenants {
		if got := resolve(r, &tenants[i]); got != want[i] {
			t.Errorf("tenant %s after ReadAhead:\n got %+v\nwant %+v (one by one)", tenants[i].Name, got, want[i])
		}
	}
	ahead = mon.Count(t)
	t.Logf("Secret Service calls, one by one: %d (%s)", total(oneByOne), summary(oneByOne))
	t.Logf("Secret Service calls, read ahead: %d (%s)", total(ahead), summary(ahead))
	return oneByOne, ahead, want
}

// bundleJSON is an OAuth tenant's bundle as jwh stores it.
func bundleJSON(name string) string {
	b, _ := json.Marshal(map[string]any{
		"clientSecret": "cs-" + name, "refreshToken": "rt-" + name, "accessToken": "at-" + name,
		"accessExpiry": "2030-01-01T00:00:00Z", "loginAt": "2029-06-01T00:00:00Z",
	})
	return string(b)
}

// TestKeyringReadAhead reads 50 tenants' secrets from the real Secret
// Service ahead, as extend --all-tenants does, and one by one, as every
// other command does: the same secrets, sources and errors, Connect and
// OAuth tenants alike, a missing item, an empty one, and an item of a
// tenant not asked for. Read ahead, the secrets come from GetSecrets
// (the bulk path), with go-keyring's GetSecret only for the empty item,
// and a fraction of the calls.
func TestKeyringReadAhead(t *testing.T) {
	requireSecretService(t)
	mon := monitorSecretService(t)
	store := tenant.NewKeyring(tenant.DefaultKeyringTimeout)
	prefix := fmt.Sprintf("e2e-ra-%d-", time.Now().UnixNano())
	var tenants []tenant.Tenant
	for i := range 50 {
		tn := tenant.Tenant{Name: fmt.Sprintf("%s%02d", prefix, i)}
		if i%10 == 3 {
			tn.Kind, tn.ClientID = tenant.KindOAuth, "e2e-client"
		}
		tenants = append(tenants, tn)
	}
	missing := map[string]bool{tenants[7].Name: true, tenants[13].Name: true} // a Connect, an OAuth tenant
	empty := tenants[21].Name
	orphan := prefix + "orphan"
	t.Cleanup(func() {
		for _, tn := range tenants {
			_ = store.Delete(tn.Name)
		}
		_ = store.Delete(orphan)
	})
	for _, tn := range tenants {
		secret := "secret-of-" + tn.Name
		switch {
		case missing[tn.Name]:
			continue
		case tn.Name == empty:
			secret = ""
		case tn.IsOAuth():
			secret = bundleJSON(tn.Name)
		}
		if err := store.Set(tn.Name, []byte(secret)); err != nil {
			t.Fatal(err)
		}
	}
	if err := store.Set(orphan, []byte("not asked for")); err != nil {
		t.Fatal(err)
	}

	oneByOne, ahead, want := compareReadAhead(t, mon, tenants)
	for i, o := range want {
		name := tenants[i].Name
		switch {
		case missing[name] || name == empty:
			if o.err == "" {
				t.Errorf("%s: no error one by one", name)
			}
		case o.err != "" || !strings.Contains(o.secret, name):
			t.Errorf("%s: one by one: %+v", name, o)
		}
	}
	if n := oneByOne["GetSecret"]; n != 48 {
		t.Errorf("one by one: %d GetSecret calls, want 48 (one per stored item)", n)
	}
	if ahead["GetSecrets"] < 1 || ahead["GetSecret"] != 1 {
		t.Errorf("read ahead: %d GetSecrets and %d GetSecret calls, want the bulk path, and GetSecret for the empty item only", ahead["GetSecrets"], ahead["GetSecret"])
	}
	if 3*total(ahead) > total(oneByOne) {
		t.Errorf("read ahead: %d calls to the Secret Service, one by one %d: want a third at most", total(ahead), total(oneByOne))
	}
}

// TestKeyringExtendAllTenants runs the real jwh extend --all-tenants over
// 30 tenants with their secrets in the real keyring, against a sandbox:
// every tenant with a secret extended, the one without it failed with the
// Resolver's message, and the secrets read through the bulk path.
func TestKeyringExtendAllTenants(t *testing.T) {
	requireSecretService(t)
	bin := buildJWH(t)
	mon := monitorSecretService(t)
	store := tenant.NewKeyring(tenant.DefaultKeyringTimeout)
	sb := sandbox.New(sandbox.Options{})
	prefix := fmt.Sprintf("e2e-ext-%d-", time.Now().UnixNano())
	var names []string
	for i := range 30 {
		name := fmt.Sprintf("%s%02d", prefix, i)
		names = append(names, name)
		if _, err := sb.AddTenant(sandbox.TenantConfig{Name: name, AppKey: appKey}); err != nil {
			t.Fatal(err)
		}
	}
	running, err := sb.Listen("127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { running.Close() })
	forEach(t, sb.Tenants(), 8, func(st *sandbox.Tenant) error { return register(st, 3) })
	config := filepath.Join(t.TempDir(), "config.json")
	cfg, err := tenant.LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	err = cfg.Update(context.Background(), func(cfg *tenant.Config) error {
		for _, st := range sb.Tenants() {
			cfg.Put(tenant.Tenant{Name: st.Name(), BaseURL: st.BaseURL(), AppKey: st.AppKey(), ClientKey: st.ClientKey()})
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	missing := names[11]
	t.Cleanup(func() {
		for _, name := range names {
			_ = store.Delete(name)
		}
	})
	for _, st := range sb.Tenants() {
		if st.Name() != missing {
			if err := store.Set(st.Name(), []byte(st.Secret())); err != nil {
				t.Fatal(err)
			}
		}
	}
	sb.ResetRequests()

	mon.Count(t)
	r := run(t, cleanEnv(config), "", bin, "extend", "--all-tenants", "-o", "json")
	calls := mon.Count(t)
	t.Logf("Secret Service calls: %d (%s)", total(calls), summary(calls))
	if r.code != 1 {
		t.Fatalf("exit %d, want 1 (one tenant failed)\nstderr %s", r.code, r.errOut)
	}
	var results []struct {
		Tenant   string  `json:"tenant"`
		OK       bool    `json:"ok"`
		Extended []int64 `json:"extended"`
		Error    *string `json:"error"`
	}
	if err := json.Unmarshal([]byte(r.out), &results); err != nil {
		t.Fatalf("stdout is not the JSON array: %v\n%s", err, r.out)
	}
	if len(results) != len(names) {
		t.Fatalf("%d results, want %d", len(results), len(names))
	}
	wantErr := fmt.Sprintf(`no shared secret for tenant %q: store one with 'jwh tenant add %s' (needs a Secret Service) or set JWH_SHARED_SECRET and select %s (--tenant %s or JWH_TENANT=%s): it stands for the selected tenant only`,
		missing, missing, missing, missing, missing)
	for i, res := range results {
		switch {
		case res.Tenant != names[i]:
			t.Errorf("result %d is tenant %s, want %s: not in the config's order", i, res.Tenant, names[i])
		case res.Tenant == missing && (res.OK || res.Error == nil || *res.Error != wantErr):
			t.Errorf("%s: %+v, want the error %q", res.Tenant, res, wantErr)
		case res.Tenant != missing && (!res.OK || len(res.Extended) != 3):
			t.Errorf("%s: %+v, want its 3 webhooks extended", res.Tenant, res)
		}
	}
	var verified int
	for _, q := range sb.Requests() {
		if q.Verified {
			verified++
		}
	}
	if verified != 2*(len(names)-1) {
		t.Errorf("the sandbox verified %d requests, want %d (a list and a refresh per tenant with a secret)", verified, 2*(len(names)-1))
	}
	if calls["GetSecrets"] < 1 || calls["GetSecret"] != 0 {
		t.Errorf("%d GetSecrets and %d GetSecret calls: want the secrets read in bulk", calls["GetSecrets"], calls["GetSecret"])
	}
}

// TestKeyringReadAheadLocked locks the keyring and reads ahead: no secret
// comes out, nothing waits for a prompt (there is no display), and the
// errors are those of reads one by one, which find the keyring locked as
// before. It runs in a test process of its own, on a session bus and a
// gnome-keyring of its own, since a locked keyring cannot be unlocked
// again without a prompt.
func TestKeyringReadAheadLocked(t *testing.T) {
	if os.Getenv("JWH_E2E_LOCKED_CHILD") == "" {
		requireSecretService(t)
		addr := privateKeyring(t)
		var env []string
		for _, kv := range os.Environ() {
			if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") && !strings.HasPrefix(kv, "DISPLAY=") {
				env = append(env, kv)
			}
		}
		env = append(env, "DBUS_SESSION_BUS_ADDRESS="+addr, "JWH_E2E_LOCKED_CHILD=1")
		r := run(t, env, "", os.Args[0], "-test.run", "^TestKeyringReadAheadLocked$", "-test.v", "-test.count=1")
		t.Logf("the test on a locked keyring:\n%s%s", r.out, r.errOut)
		if r.code != 0 || !strings.Contains(r.out, "--- PASS: TestKeyringReadAheadLocked") {
			t.Fatalf("exit %d", r.code)
		}
		return
	}

	// In the child, on the private bus.
	mon := monitorSecretService(t)
	store := tenant.NewKeyring(tenant.DefaultKeyringTimeout)
	var tenants []tenant.Tenant
	for i := range 6 {
		tenants = append(tenants, tenant.Tenant{Name: fmt.Sprintf("locked-%d", i)})
		if err := store.Set(tenants[i].Name, []byte("secret")); err != nil {
			t.Fatal(err)
		}
	}
	conn, err := dbus.SessionBus()
	if err != nil {
		t.Fatal(err)
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = conn.Object(secretService, "/org/freedesktop/secrets").Call("org.freedesktop.Secret.Service.Lock", 0,
		[]dbus.ObjectPath{"/org/freedesktop/secrets/collection/login"}).Store(&locked, &prompt)
	if err != nil || len(locked) != 1 || prompt != "/" {
		t.Fatalf("lock the login collection: %v, locked %v, prompt %s", err, locked, prompt)
	}

	oneByOne, ahead, want := compareReadAhead(t, mon, tenants)
	for i, o := range want {
		if !o.keyringDown || o.secret != "" {
			t.Errorf("%s on a locked keyring: %+v, want a keyring error", tenants[i].Name, o)
		}
	}
	// go-keyring asks for the prompt, as before; the bulk read never does.
	if ahead["GetSecrets"] != 0 || ahead["Prompt"] != oneByOne["Prompt"] {
		t.Errorf("read ahead: %d GetSecrets and %d Prompt calls, want none and %d (as one by one)", ahead["GetSecrets"], ahead["Prompt"], oneByOne["Prompt"])
	}
}

// privateKeyring starts a session bus of its own and gnome-keyring on it,
// unlocked, with a throw-away keyring folder, as with-keyring.sh does, and
// returns the bus's address. Both stop when the test ends.
func privateKeyring(t *testing.T) string {
	t.Helper()
	for _, prog := range []string{"dbus-daemon", "gnome-keyring-daemon"} {
		if _, err := exec.LookPath(prog); err != nil {
			t.Skipf("SKIPPED: %s is not installed", prog)
		}
	}
	dir := t.TempDir()
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "DBUS_SESSION_BUS_ADDRESS=") && !strings.HasPrefix(kv, "DISPLAY=") && !strings.HasPrefix(kv, "XDG_") {
			env = append(env, kv)
		}
	}
	bus := exec.Command("dbus-daemon", "--session", "--nofork", "--print-address=1")
	bus.Env = env
	out, err := bus.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := bus.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = bus.Process.Kill(); _ = bus.Wait() })
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon did not print its address: %v", err)
	}
	addr := strings.TrimSpace(line)

	kr := exec.Command("gnome-keyring-daemon", "--foreground", "--unlock", "--components=secrets")
	kr.Env = append(slices.Clip(env), "DBUS_SESSION_BUS_ADDRESS="+addr, "XDG_DATA_HOME="+filepath.Join(dir, "data"), "XDG_CACHE_HOME="+filepath.Join(dir, "cache"))
	kr.Stdin = strings.NewReader("e2e-private-keyring")
	if err := kr.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = kr.Process.Kill(); _ = kr.Wait() })

	conn, err := dbus.Connect(addr)
	if err != nil {
		t.Fatalf("connect to the private bus: %v", err)
	}
	defer conn.Close()
	for deadline := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		var owned bool
		if err := conn.BusObject().Call("org.freedesktop.DBus.NameHasOwner", 0, secretService).Store(&owned); err == nil && owned {
			return addr
		}
		if time.Now().After(deadline) {
			t.Fatal("gnome-keyring did not take org.freedesktop.secrets on the private bus within 30 s")
		}
	}
}
