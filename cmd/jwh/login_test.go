package main

import (
	"bufio"
	"bytes"
	"errors"
	"flag"
	"io"
	"os"
	"os/exec"
	"sync"
	"time"

	"github.com/rogpeppe/go-internal/testscript"

	"github.com/jwh-cli/jwh/internal/sandbox"
	"github.com/jwh-cli/jwh/internal/tenant"
)

// scriptEnv is what the scripts' environment holds for jwh: the variables
// that a process started by a command of this file gets from the script.
var scriptEnv = []string{
	"PATH", "HOME", "WORK", "TMPDIR", "GORACE", "NO_COLOR", envTestKeyring,
	tenant.EnvConfig, tenant.EnvTenant, tenant.EnvSecret, tenant.EnvClientSecret,
	"JWH_TIMEOUT", "JWH_TOTAL_TIMEOUT",
}

// cmdPasteLogin runs jwh tenant login --no-browser ARGS... as a user at a
// terminal would: it writes the client secret on its standard input
// (unless $JWH_CLIENT_SECRET is set), waits for the authorization URL on
// its standard error, approves it as USER in the sandbox, and pastes the
// address the browser was sent to. Its output goes to login.stdout and
// login.stderr in $WORK; its exit status must be CODE (-exit, default 0).
func cmdPasteLogin(ts *testscript.TestScript, neg bool, args []string) {
	noNeg(ts, neg, "paste-login")
	fs := flag.NewFlagSet("paste-login", flag.ContinueOnError)
	want := fs.Int("exit", 0, "")
	ts.Check(fs.Parse(args))
	if fs.NArg() < 1 {
		ts.Fatalf("usage: paste-login [-exit CODE] USER ARGS...")
	}
	user := fs.Arg(0)
	cmd := exec.Command("jwh", append([]string{"tenant", "login", "--no-browser"}, fs.Args()[1:]...)...)
	for _, k := range scriptEnv {
		if v := ts.Getenv(k); v != "" {
			cmd.Env = append(cmd.Env, k+"="+v)
		}
	}
	cmd.Dir = ts.Getenv("WORK")
	stdin, err := cmd.StdinPipe()
	ts.Check(err)
	stderrPipe, err := cmd.StderrPipe()
	ts.Check(err)
	var stdout bytes.Buffer
	cmd.Stdout = &stdout
	ts.Check(cmd.Start())
	if ts.Getenv(tenant.EnvClientSecret) == "" {
		_, err = io.WriteString(stdin, oauthClientSecret+"\n")
		ts.Check(err)
	}

	var stderr bytes.Buffer
	var wg sync.WaitGroup
	var approveErr error
	wg.Add(1)
	go func() {
		defer wg.Done()
		defer stdin.Close()
		sc := bufio.NewScanner(stderrPipe)
		sc.Buffer(make([]byte, 64<<10), 1<<20)
		pasted := false
		for sc.Scan() {
			line := sc.Text()
			stderr.WriteString(line + "\n")
			if u := authorizeURLRE.FindString(line); u != "" && !pasted {
				pasted = true
				loc, err := sandbox.Approve(nil, u, user)
				if err != nil {
					approveErr = err
					return
				}
				_, _ = io.WriteString(stdin, loc.String()+"\n")
			}
		}
	}()
	done := make(chan error, 1)
	go func() {
		wg.Wait()
		done <- cmd.Wait()
	}()
	select {
	case err = <-done:
	case <-time.After(eventually):
		_ = cmd.Process.Kill()
		ts.Fatalf("jwh tenant login did not end within %s\nstderr:\n%s", eventually, stderr.String())
	}
	work := ts.Getenv("WORK")
	ts.Check(os.WriteFile(work+"/login.stdout", stdout.Bytes(), 0o600))
	ts.Check(os.WriteFile(work+"/login.stderr", stderr.Bytes(), 0o600))
	ts.Check(approveErr)
	got := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee):
		got = ee.ExitCode()
	case err != nil:
		ts.Fatalf("jwh tenant login: %v", err)
	}
	if got != *want {
		ts.Fatalf("jwh tenant login exited with status %d, want %d\nstderr:\n%s", got, *want, stderr.String())
	}
	noSecrets(ts, stdout.String(), stderr.String())
}
