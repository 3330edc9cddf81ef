package e2e

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"
)

// BenchmarkStartup measures whole processes: jwh's quickest commands next
// to a hello-world Go program and deps-floor, a program that only links
// jwh's libraries. Each round runs every program once, starting with a
// different one each time, so that the machine's load weighs on all of
// them alike (paired runs). It prints the median wall and CPU time of each
// and their ratio to hello world's. Run it with
//
//	go test -run '^$' -bench Startup -benchtime 400x ./internal/e2e
//
// The programs are built as releases are (CGO_ENABLED=0, -trimpath,
// -ldflags=-s -w); a "cgo build" is what go build makes by default where a
// C compiler is installed: linked dynamically against the C library. To
// measure another commit's jwh, build it so and name it in
// $JWH_STARTUP_BIN. The goal is at most twice the hello-world time
// (docs/performance.md).
func BenchmarkStartup(b *testing.B) {
	dir := b.TempDir()
	hello := filepath.Join(dir, "src", "hello", "main.go")
	helloNet := filepath.Join(dir, "src", "hellonet", "main.go")
	for file, imports := range map[string]string{hello: `"fmt"`, helloNet: `"fmt"; _ "net"`} {
		src := "package main\n\nimport (" + imports + ")\n\nfunc main() { fmt.Println(\"hello, world\") }\n"
		if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
			b.Fatal(err)
		}
		if err := os.WriteFile(file, []byte(src), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	// $JWH_STARTUP_BIN, when set, is the jwh to measure instead of this
	// tree's: another commit's, built as above.
	jwh := os.Getenv("JWH_STARTUP_BIN")
	if jwh == "" {
		jwh = buildRelease(b, dir, "jwh", "./cmd/jwh")
	}
	jql := `project = PRJ AND issuetype IN (Bug, "Sub-task") AND status != Done`
	cases := []program{
		{"hello world", []string{buildRelease(b, dir, "hello", hello)}},
		{"deps-floor", []string{buildRelease(b, dir, "depsfloor", "./internal/e2e/testdata/depsfloor")}},
		{"jwh version", []string{jwh, "version"}},
		{"jwh --help", []string{jwh, "--help"}},
		{"jwh list --help", []string{jwh, "list", "--help"}},
		{"jwh register --help", []string{jwh, "register", "--help"}},
		{"jwh tenant add --help", []string{jwh, "tenant", "add", "--help"}},
		{"jwh validate --jql … --event …", []string{jwh, "validate", "--jql", jql, "--event", "jira:issue_updated"}},
	}
	if os.Getenv("JWH_STARTUP_BIN") == "" {
		cases = append(cases, cgoBuilds(b, dir, helloNet)...)
	}
	// jwh must not need a config or a keyring for these commands: point
	// them at nothing, so that a stray access would show as an error.
	env := append(os.Environ(), "JWH_CONFIG="+filepath.Join(dir, "none.json"), "DBUS_SESSION_BUS_ADDRESS=unix:path="+filepath.Join(dir, "no-bus"))
	wall := make([][]time.Duration, len(cases))
	cpu := make([][]time.Duration, len(cases))
	round := 0
	for b.Loop() {
		for k := range cases {
			i := (round + k) % len(cases)
			cmd := exec.Command(cases[i].argv[0], cases[i].argv[1:]...)
			cmd.Env = env // standard output and error: the null device
			start := time.Now()
			err := cmd.Run()
			wall[i] = append(wall[i], time.Since(start))
			if err != nil {
				out, _ := exec.Command(cases[i].argv[0], cases[i].argv[1:]...).CombinedOutput()
				b.Fatalf("%s: %v\n%s", cases[i].name, err, out)
			}
			cpu[i] = append(cpu[i], cmd.ProcessState.UserTime()+cmd.ProcessState.SystemTime())
		}
		round++
	}
	// The table goes to standard output: b.Log would cut it at ten lines.
	var t strings.Builder
	fmt.Fprintf(&t, "\n%d paired runs, medians\n\n", round)
	fmt.Fprintf(&t, "| program | wall | × hello | CPU (user+sys) | × hello |\n| --- | ---: | ---: | ---: | ---: |\n")
	helloWall, helloCPU := median(wall[0]), median(cpu[0])
	for i, c := range cases {
		w, u := median(wall[i]), median(cpu[i])
		fmt.Fprintf(&t, "| %s | %.2f ms | %.2f | %.2f ms | %.2f |\n", c.name, ms(w), ms(w)/ms(helloWall), ms(u), ms(u)/ms(helloCPU))
	}
	os.Stdout.WriteString(t.String())
}

// program is a command line that BenchmarkStartup runs.
type program struct {
	name string
	argv []string
}

// cgoBuilds builds jwh and a hello world that imports net (the source file
// helloNet) with cgo into dir, and returns their command lines: with cgo,
// net links the C library's resolver, so that any program importing it is
// linked dynamically. Without a C compiler it returns none.
func cgoBuilds(b *testing.B, dir, helloNet string) []program {
	jwh, hello := filepath.Join(dir, "jwh-cgo"), filepath.Join(dir, "hellonet-cgo")
	if out, err := goBuild(jwh, "./cmd/jwh", "CGO_ENABLED=1"); err != nil {
		b.Logf("no cgo build (is a C compiler installed?): %v\n%s", err, out)
		return nil
	}
	if out, err := goBuild(hello, helloNet, "CGO_ENABLED=1"); err != nil {
		b.Fatalf("go build %s: %v\n%s", helloNet, err, out)
	}
	return []program{
		{"jwh version, cgo build", []string{jwh, "version"}},
		{"hello world importing net, cgo build", []string{hello}},
	}
}

// buildRelease builds pkg into dir/name as releases are built
// (.goreleaser.yaml): static, without paths or symbol tables.
func buildRelease(tb testing.TB, dir, name, pkg string) string {
	tb.Helper()
	bin := filepath.Join(dir, name)
	if out, err := goBuild(bin, pkg, "CGO_ENABLED=0", "-trimpath", "-ldflags=-s -w"); err != nil {
		tb.Fatalf("go build %s: %v\n%s", pkg, err, out)
	}
	return bin
}

// goBuild builds pkg (a package path in the module, or a file) into bin
// with the environment variables and flags in args (NAME=value, -flag).
func goBuild(bin, pkg string, args ...string) ([]byte, error) {
	gomod, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil || strings.TrimSpace(string(gomod)) == "" {
		return nil, fmt.Errorf("cannot find the module root: %v", err)
	}
	cmd := exec.Command("go", "build", "-o", bin)
	cmd.Dir = filepath.Dir(strings.TrimSpace(string(gomod)))
	cmd.Env = os.Environ()
	for _, a := range args {
		if strings.HasPrefix(a, "-") {
			cmd.Args = append(cmd.Args, a)
		} else {
			cmd.Env = append(cmd.Env, a)
		}
	}
	cmd.Args = append(cmd.Args, pkg)
	return cmd.CombinedOutput()
}

func median(d []time.Duration) time.Duration {
	s := slices.Sorted(slices.Values(d))
	return s[len(s)/2]
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }
