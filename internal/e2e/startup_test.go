package e2e

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// BenchmarkStartup measures the wall time of whole processes: jwh version
// and jwh validate next to a hello-world Go binary and a program that only
// links jwh's libraries (the floor), built the same way and measured in the
// same run, so that the ratios hold on any machine. Run it with
//
//	go test -run '^$' -bench Startup -benchtime 200x ./internal/e2e
//
// The goal (issue 7) is at most twice the hello-world time.
func BenchmarkStartup(b *testing.B) {
	jwh := buildJWH(b)
	hello := buildHello(b)
	floor := buildFloor(b)
	dir := b.TempDir()
	// jwh must not need a config or a keyring for these commands: point
	// them at nothing, so that a stray access would show as an error.
	env := append(os.Environ(), "JWH_CONFIG="+filepath.Join(dir, "none.json"), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus"))
	cases := []struct {
		name string
		argv []string
	}{
		{"hello", []string{hello}},
		{"deps-floor", []string{floor}},
		{"jwh-version", []string{jwh, "version"}},
		{"jwh-validate", []string{jwh, "validate", "--jql", `project = PRJ AND issuetype IN (Bug, "Sub-task") AND status != Done`, "--event", "jira:issue_updated"}},
	}
	for _, c := range cases {
		b.Run(c.name, func(b *testing.B) {
			for b.Loop() {
				cmd := exec.Command(c.argv[0], c.argv[1:]...)
				cmd.Env = env
				if out, err := cmd.CombinedOutput(); err != nil {
					b.Fatalf("%v: %v\n%s", c.argv, err, out)
				}
			}
		})
	}
}

// buildFloor builds testdata/depsfloor: a program that links jwh's
// libraries (cobra, golang-jwt, go-keyring, displaywidth, net/http) and only
// prints a line.
func buildFloor(b *testing.B) string {
	b.Helper()
	bin := filepath.Join(b.TempDir(), "depsfloor")
	if out, err := exec.Command("go", "build", "-o", bin, "./testdata/depsfloor").CombinedOutput(); err != nil {
		b.Fatalf("go build depsfloor: %v\n%s", err, out)
	}
	return bin
}

// buildHello builds a hello-world program with the same toolchain.
func buildHello(b *testing.B) string {
	b.Helper()
	dir := b.TempDir()
	src := filepath.Join(dir, "main.go")
	if err := os.WriteFile(src, []byte("package main\n\nimport \"fmt\"\n\nfunc main() { fmt.Println(\"hello, world\") }\n"), 0o644); err != nil {
		b.Fatal(err)
	}
	bin := filepath.Join(dir, "hello")
	cmd := exec.Command("go", "build", "-o", bin, src)
	cmd.Dir = dir
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("go build hello: %v\n%s", err, out)
	}
	return bin
}
