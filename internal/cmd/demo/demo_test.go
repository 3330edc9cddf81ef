package demo_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/cmd/demo"
	"github.com/jwh-cli/jwh/internal/cmd/root"
	"github.com/jwh-cli/jwh/internal/cmdtest"
	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// forbiddenStore is the user's keyring: the demo must never use it.
type forbiddenStore struct{ t *testing.T }

func (s forbiddenStore) Get(name string) ([]byte, error) {
	s.t.Errorf("the demo read the user's keyring (tenant %q)", name)
	return nil, errors.New("forbidden")
}

func (s forbiddenStore) Set(name string, _ []byte) error {
	s.t.Errorf("the demo wrote to the user's keyring (tenant %q)", name)
	return errors.New("forbidden")
}

func (s forbiddenStore) Delete(name string) error {
	s.t.Errorf("the demo deleted from the user's keyring (tenant %q)", name)
	return errors.New("forbidden")
}

// userFactory returns the Factory of a user whose config file is
// userConfig and whose keyring is forbidden. The demo's throw-away
// directory goes to a temporary TMPDIR, returned for inspection.
func userFactory(t *testing.T) (f *cmdutil.Factory, out, errOut fmt.Stringer, userConfig, tmp string) {
	t.Helper()
	tmp = t.TempDir()
	t.Setenv("TMPDIR", tmp)
	userConfig = filepath.Join(t.TempDir(), "config.json")
	getenv := func(k string) string {
		if k == tenant.EnvConfig {
			return userConfig
		}
		return ""
	}
	loadConfig := cmdutil.LoadConfigOnce(getenv)
	ios, _, o, e := iostreams.Test()
	f = &cmdutil.Factory{
		IOStreams: ios,
		Version:   "test",
		Getenv:    getenv,
		Now:       time.Now,
		Config: func() (*tenant.Config, error) {
			t.Error("the demo loaded the user's config")
			return loadConfig()
		},
		Secrets: func() tenant.SecretStore { return forbiddenStore{t} },
	}
	return f, o, e, userConfig, tmp
}

// checkNoTrace fails when the demo left something behind: the user's
// config file, or its throw-away directory.
func checkNoTrace(t *testing.T, userConfig, tmp string) {
	t.Helper()
	if _, err := os.Stat(userConfig); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("the user's config file %s was touched: %v", userConfig, err)
	}
	left, err := os.ReadDir(tmp)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range left {
		t.Errorf("the demo left %s in the temporary directory", e.Name())
	}
}

func TestDemo(t *testing.T) {
	f, stdout, stderr, userConfig, tmp := userFactory(t)
	code := app.Run(f, []string{"demo"})
	out := stdout.String()
	if code != 0 {
		t.Fatalf("exit %d, want 0\nstdout:\n%s\nstderr:\n%s", code, out, stderr)
	}
	if stderr.String() != "" {
		t.Errorf("stderr: %q, want nothing", stderr)
	}
	if strings.Contains(out, "\x1b[") {
		t.Errorf("colour on a pipe:\n%s", out)
	}
	checkNoTrace(t, userConfig, tmp)

	// Every step is announced, in order, with the command a user would
	// type.
	steps := []string{
		"$ jwh sandbox --retry-scale 0.0001\n",
		"$ jwh listen --addr 127.0.0.1:",
		"$ jwh tenant import sandbox --file - --no-keyring ",
		"$ jwh tenant login sandbox-oauth --client-id ",
		"$ jwh validate --jql 'project = DEMO AND status = Done' --event jira:issue_updated\n",
		"$ jwh register --url http://127.0.0.1:",
		"$ jwh register --url http://127.0.0.1:",
		"$ jwh register -t sandbox-oauth --url http://127.0.0.1:",
		"$ jwh list\n",
		"$ jwh trigger jira:issue_updated --issue-key DEMO-1 --status 'In Progress' --changed status\n",
		"$ jwh trigger jira:issue_updated --issue-key DEMO-1 --status 'In Progress' --changed status ",
		"$ jwh failed\n",
		"$ jwh extend --all-tenants\n",
		"$ jwh delete --all --yes\n",
		"$ jwh delete -t sandbox-oauth --all --yes\n",
		"$ jwh list\n",
	}
	rest := out
	for i, cmd := range steps {
		head := fmt.Sprintf("\n[%d/%d] ", i+1, len(steps))
		at := strings.Index(rest, head)
		if at < 0 {
			t.Fatalf("step %d is not announced (or out of order) in:\n%s", i+1, out)
		}
		rest = rest[at+len(head):]
		narration, after, _ := strings.Cut(rest, "\n")
		if narration == "" {
			t.Errorf("step %d has no narration", i+1)
		}
		// The command follows the narration; at step 11, after the
		// summary of the listener that was stopped.
		if i+1 == 11 {
			summary := ""
			summary, after, _ = strings.Cut(after, "\n")
			if !strings.HasPrefix(summary, "listen  │ Stopped after ") || !strings.Contains(summary, ": 2 deliveries, 0 duplicates, 0 rejected") {
				t.Errorf("step 11: the listener's summary is %q", summary)
			}
		}
		if !strings.HasPrefix(after, cmd) {
			t.Errorf("step %d: the command %q does not follow %q:\n%s", i+1, cmd, narration, after)
		}
	}

	// The ids of the two webhooks, from the register rows (tab-separated
	// on a pipe).
	matching := regexp.MustCompile(`(?m)^(\d+)\tjira:issue_updated\tproject = DEMO\tregistered$`).FindStringSubmatch(out)
	other := regexp.MustCompile(`(?m)^(\d+)\tjira:issue_updated\tproject = DEMO AND status = Done\tregistered$`).FindStringSubmatch(out)
	oauth := regexp.MustCompile(`(?m)^(\d+)\tjira:issue_updated\tproject = DEMO\tregistered\n\n\[9/`).FindStringSubmatch(out)
	if matching == nil || other == nil || oauth == nil {
		t.Fatalf("the three registrations are not in the output:\n%s", out)
	}
	if !strings.Contains(out, "\n✓ Logged in to http://127.0.0.1:") || !strings.Contains(out, " as tenant sandbox-oauth (cloud id ") {
		t.Errorf("the OAuth login is not in the output:\n%s", out)
	}

	// The listener printed exactly two deliveries, verified: the Connect
	// app's for the matching webhook only, and the OAuth app's.
	var deliveries []string
	for _, line := range strings.Split(out, "\n") {
		if rest, ok := strings.CutPrefix(line, "listen  │ "); ok {
			if strings.Contains(rest, "✗") {
				t.Errorf("the listener refused something: %s", line)
			}
			if strings.Contains(rest, "jira:issue_updated") {
				deliveries = append(deliveries, rest)
			}
		}
	}
	if len(deliveries) != 2 {
		t.Fatalf("the listener printed %d deliveries, want 2: %q", len(deliveries), deliveries)
	}
	if strings.Contains(deliveries[1], "oauth tenant") { // the OAuth app's first
		deliveries[0], deliveries[1] = deliveries[1], deliveries[0]
	}
	for i, want := range []struct{ id, verified string }{{oauth[1], "✓ verified (oauth tenant sandbox-oauth)"}, {matching[1], "✓ verified (sandbox)"}} {
		d := deliveries[i]
		if !strings.Contains(d, "  webhooks "+want.id+"  ") || !strings.HasSuffix(d, want.verified) || !strings.Contains(d, "DEMO-1") {
			t.Errorf("delivery line %q: want DEMO-1 for webhook %s only, %s", d, want.id, want.verified)
		}
	}

	for _, want := range []string{
		"\tskipped\t\tthe issue does not match the filter: project = DEMO AND status = Done\n",
		"listed by 'jwh failed'",
		"Deleted 2 webhooks of tenant sandbox: " + matching[1] + ", " + other[1] + "\n",
		"Deleted 1 webhook of tenant sandbox-oauth: " + oauth[1] + "\n",
		"for the OAuth 2.0 app failed: ",
		"\nsandbox\textended\t2\t",
		"\nsandbox-oauth\textended\t1\t",
		"jwh sandbox --installed sandbox.json\n",
		"jwh tenant import sandbox --file sandbox.json && jwh listen\n",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("the output lacks %q:\n%s", want, out)
		}
	}
	// After the deletion, the last list printed no webhook.
	last := out[strings.LastIndex(out, "$ jwh list\n")+len("$ jwh list\n"):]
	if !strings.HasPrefix(last, "\n✓ Done.") {
		t.Errorf("the last jwh list printed webhooks:\n%s", last)
	}
}

// TestDemoStepFails checks that a step that fails stops the demo with a
// clear error and exit status 1, whatever the step's own status, and that
// nothing is left behind.
func TestDemoStepFails(t *testing.T) {
	f, stdout, _, userConfig, tmp := userFactory(t)
	newRoot := func(f *cmdutil.Factory) *cobra.Command {
		cmd := root.NewCmdRoot(f)
		extend, _, err := cmd.Find([]string{"extend"})
		if err != nil {
			t.Fatal(err)
		}
		extend.RunE = func(*cobra.Command, []string) error {
			return cmdutil.CredentialsErrorf("jira answered 401")
		}
		return cmd
	}
	cmd := demo.NewCmdDemo(f, newRoot, nil)
	cmd.SetArgs([]string{})
	cmd.SetOut(f.IOStreams.Out)
	cmd.SetErr(f.IOStreams.ErrOut)
	err := cmd.ExecuteContext(context.Background())
	if code := cmdutil.ExitCode(err); code != 1 {
		t.Errorf("exit %d, want 1 (error %v)", code, err)
	}
	want := "demo: step 13 failed (jwh extend --all-tenants): jira answered 401"
	if err == nil || err.Error() != want {
		t.Errorf("error %v, want %q", err, want)
	}
	if out := stdout.String(); strings.Contains(out, "[14/") || strings.Contains(out, "Done.") {
		t.Errorf("the demo went on after the failed step:\n%s", out)
	}
	checkNoTrace(t, userConfig, tmp)
}

// TestNewCmdDemo checks that the global flags that would mislead are
// refused: the demo has no JSON output and never works on the user's
// tenants.
func TestNewCmdDemo(t *testing.T) {
	newCmd := func(f *cmdutil.Factory, runF func(*demo.Options) error) *cobra.Command {
		return demo.NewCmdDemo(f, root.NewCmdRoot, runF)
	}
	cmdtest.Flags(t, newCmd, []cmdtest.Case[demo.Options]{
		{Args: "", Want: demo.Options{Version: "test", Timeout: demo.DefaultTimeout}},
		{Args: "--debug", Want: demo.Options{Version: "test", Timeout: demo.DefaultTimeout, Debug: true}},
		{Args: "-o json", WantErr: "jwh demo prints a tour for a person and has no JSON output: run it without -o json"},
		{Args: "--tenant acme", WantErr: "jwh demo works on its own sandbox tenant and never on yours: run it without --tenant"},
		{Args: "extra", WantErr: `unexpected argument "extra" for "jwh demo"`},
	})
}
