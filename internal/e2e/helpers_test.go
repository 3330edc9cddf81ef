package e2e

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jwh-cli/jwh/internal/tenant"
)

// appKey is the app key of the tenants of these tests.
const appKey = "com.example.e2e"

// cleanEnv returns the test's environment without jwh's variables (above
// all JWH_SHARED_SECRET: the secret must come from the keyring) and
// without DISPLAY (a locked keyring would wait for a prompt), with
// JWH_CONFIG set to config and the extra variables added.
func cleanEnv(config string, extra ...string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if strings.HasPrefix(kv, "JWH_") || strings.HasPrefix(kv, "DISPLAY=") {
			continue
		}
		env = append(env, kv)
	}
	return append(append(env, "JWH_CONFIG="+config, "NO_COLOR=1"), extra...)
}

type result struct {
	code        int
	out, errOut string
	took        time.Duration
}

// run runs a command with stdin and env; a command that does not end
// within a minute is killed and fails the test rather than hanging it.
func run(t *testing.T, env []string, stdin, name string, args ...string) result {
	t.Helper()
	r, err := runProcess(env, stdin, name, args...)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// runProcess is run for any goroutine: it reports what would fail the
// test as an error.
func runProcess(env []string, stdin, name string, args ...string) (result, error) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Env = env
	cmd.Stdin = strings.NewReader(stdin)
	var out, errOut bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errOut
	start := time.Now()
	err := cmd.Run()
	r := result{out: out.String(), errOut: errOut.String(), took: time.Since(start)}
	var ee *exec.ExitError
	switch {
	case ctx.Err() != nil:
		return r, fmt.Errorf("%s %q did not end within a minute: it hangs\nstderr: %s", name, args, r.errOut)
	case errors.As(err, &ee):
		r.code = ee.ExitCode()
	case err != nil:
		return r, fmt.Errorf("%s %q: %v", name, args, err)
	}
	return r, nil
}

// installed returns the installed payload of a tenant called name, whose
// shared secret is secretOf(name).
func installed(name string) string {
	return fmt.Sprintf(`{"key": %q, "clientKey": "ck-%s", "sharedSecret": %q, "baseUrl": "https://%s.example.com"}`,
		appKey, name, secretOf(name), name)
}

func secretOf(name string) string { return "secret-of-" + name }

// changeTenantsAtOnce imports each of the tenants in removed into the
// config of env, one process after the other; then it runs, all at once,
// one jwh process per tenant in added (tenant import NAME --file -) and one
// per tenant in removed (tenant remove NAME). extra is added to the import
// command lines. Every process must succeed, and the config must then
// name exactly the added tenants: no change may be lost. It returns the
// config as the processes left it.
func changeTenantsAtOnce(t *testing.T, bin string, env []string, extra []string, added, removed []string) *tenant.Config {
	t.Helper()
	importArgs := func(name string) []string {
		return append([]string{"tenant", "import", name, "--file", "-"}, extra...)
	}
	for _, name := range removed {
		if r := run(t, env, installed(name), bin, importArgs(name)...); r.code != 0 {
			t.Fatalf("jwh tenant import %s: exit %d\n%s", name, r.code, r.errOut)
		}
	}

	type job struct {
		args  []string
		stdin string
	}
	var jobs []job
	for _, name := range added {
		jobs = append(jobs, job{importArgs(name), installed(name)})
	}
	for _, name := range removed {
		jobs = append(jobs, job{[]string{"tenant", "remove", name}, ""})
	}
	var wg sync.WaitGroup
	results := make([]result, len(jobs))
	errs := make([]error, len(jobs))
	for i, j := range jobs {
		wg.Go(func() { results[i], errs[i] = runProcess(env, j.stdin, bin, j.args...) })
	}
	wg.Wait()
	for i, j := range jobs {
		switch {
		case errs[i] != nil:
			t.Error(errs[i])
		case results[i].code != 0:
			t.Errorf("jwh %s: exit %d\n%s", strings.Join(j.args, " "), results[i].code, results[i].errOut)
		}
	}

	config := ""
	for _, kv := range env {
		if v, ok := strings.CutPrefix(kv, tenant.EnvConfig+"="); ok {
			config = v
		}
	}
	cfg, err := tenant.LoadConfig(config)
	if err != nil {
		t.Fatal(err)
	}
	want := slices.Sorted(slices.Values(added))
	if got := cfg.Names(); !slices.Equal(got, want) {
		t.Errorf("the config names %d tenants %v, want %d %v: changes were lost", len(got), got, len(want), want)
	}
	for _, tn := range cfg.Tenants {
		if tn.ClientKey != "ck-"+tn.Name || tn.BaseURL != "https://"+tn.Name+".example.com" {
			t.Errorf("tenant %+v does not hold its own payload", tn)
		}
	}
	return cfg
}

// envInt reads a positive whole number from the environment variable
// name (a benchmark's size), or returns def when it is unset. It is here,
// in a file of every build, so that the keyring build and the default one
// share it.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		tb.Fatalf("$%s=%q: want a whole number above 0", name, v)
	}
	return n
}
