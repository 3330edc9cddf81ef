// Package cmdtest runs the flag tests of the command packages (the
// TestNewCmdX tests): a command line goes in, and what comes out is the
// Options the command would run with, caught through its runF, or the exact
// error a user would read. Commands run under a root command with jwh's
// global flags and flag-error handling, so what a test types is what a user
// types. It also logs in to a sandbox's OAuth app (OAuthLogin) for the
// tests of commands on OAuth tenants.
package cmdtest

import (
	"reflect"
	"strings"
	"testing"
	"time"
	"unicode"

	"github.com/google/go-cmp/cmp"
	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

// A Case is one command line of a flag test.
type Case[O any] struct {
	// Args is the command line after the command's name, split into
	// words as a POSIX shell splits them ('single' and "double" quotes,
	// no escapes or expansions): "--jql 'project = A' -o json".
	Args string
	// TTY makes standard input, output and error terminals.
	TTY bool
	// Want is the Options the command runs with. Funcs, the streams and
	// unexported fields are not compared.
	Want O
	// WantErr, when set, is the error the command fails with instead; it
	// must be bad input (exit status 2), found before anything runs.
	WantErr string
}

// Flags runs the cases of a flag test: for each, it builds the command
// with newCmd, runs it with the case's command line, and compares what the
// command passed to runF with Want, or its error with WantErr. opts are
// further cmp options.
func Flags[O any](t *testing.T, newCmd func(*cmdutil.Factory, func(*O) error) *cobra.Command, cases []Case[O], opts ...cmp.Option) {
	t.Helper()
	opts = append(opts, ignoreDependencies)
	for _, tc := range cases {
		t.Run(tc.Args, func(t *testing.T) {
			ios, _, _, _ := iostreams.Test()
			ios.SetStdinTTY(tc.TTY)
			ios.SetStdoutTTY(tc.TTY)
			ios.SetStderrTTY(tc.TTY)
			var got *O
			cmd := newCmd(Factory(ios), func(o *O) error { got = o; return nil })
			err := Run(cmd, Split(tc.Args)...)
			switch {
			case tc.WantErr != "":
				if err == nil {
					t.Fatalf("no error, want %q; options:\n%+v", tc.WantErr, got)
				}
				if err.Error() != tc.WantErr {
					t.Errorf("error\n  %s\nwant\n  %s", err, tc.WantErr)
				}
				if code := cmdutil.ExitCode(err); code != cmdutil.ExitInput {
					t.Errorf("exit status %d, want %d", code, cmdutil.ExitInput)
				}
			case err != nil:
				t.Fatalf("error: %v", err)
			case got == nil:
				t.Fatal("the command did not call runF")
			default:
				if diff := cmp.Diff(tc.Want, *got, opts...); diff != "" {
					t.Errorf("options (-want +got):\n%s", diff)
				}
			}
		})
	}
}

// ignoreDependencies leaves out of a comparison of Options what is not
// parsed from the command line: funcs (the dependencies), the streams and
// unexported fields.
var ignoreDependencies = cmp.FilterPath(func(p cmp.Path) bool {
	if sf, ok := p.Last().(cmp.StructField); ok && !isExported(sf.Name()) {
		return true
	}
	t := p.Last().Type()
	return t != nil && (t.Kind() == reflect.Func || t == reflect.TypeFor[*iostreams.IOStreams]())
}, cmp.Ignore())

func isExported(name string) bool {
	for _, r := range name {
		return unicode.IsUpper(r)
	}
	return false
}

// Factory returns a Factory for flag tests: the streams ios, an empty
// environment and the real clock. It has no config, secrets or
// transport: parsing flags must not need them.
func Factory(ios *iostreams.IOStreams) *cmdutil.Factory {
	return &cmdutil.Factory{
		IOStreams: ios,
		Version:   "test",
		Getenv:    func(string) string { return "" },
		Now:       time.Now,
	}
}

// InGroup returns newCmd with the command placed under a group command
// called group, as the subcommands of jwh tenant are, so that their errors
// name them as a user sees them ("jwh tenant list").
func InGroup[O any](group string, newCmd func(*cmdutil.Factory, func(*O) error) *cobra.Command) func(*cmdutil.Factory, func(*O) error) *cobra.Command {
	return func(f *cmdutil.Factory, runF func(*O) error) *cobra.Command {
		cmd := newCmd(f, runF)
		(&cobra.Command{Use: group}).AddCommand(cmd)
		return cmd
	}
}

// Run runs cmd with argv, the arguments after its name, as jwh would run
// it: under a root command called jwh with the global flags (--tenant, -o,
// --debug), their check, and jwh's handling of flag errors. It returns the
// command's error. Run places cmd, or the group above it (InGroup), under
// its root.
func Run(cmd *cobra.Command, argv ...string) error {
	root := &cobra.Command{
		Use:           "jwh",
		SilenceErrors: true,
		SilenceUsage:  true,
		PersistentPreRunE: func(cmd *cobra.Command, args []string) error {
			return cmdutil.CheckGlobalFlags(cmd)
		},
	}
	cmdutil.AddGlobalFlags(root)
	root.SetFlagErrorFunc(cmdutil.FlagErrorFunc)
	root.SetOut(discard{})
	root.SetErr(discard{})
	top, path := cmd, []string{cmd.Name()}
	for top.HasParent() {
		top = top.Parent()
		path = append([]string{top.Name()}, path...)
	}
	root.AddCommand(top)
	root.SetArgs(append(path, argv...))
	_, err := root.ExecuteC()
	return err
}

type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// Split splits a command line into words as a POSIX shell does with
// 'single' and "double" quotes, without escapes or expansions.
func Split(line string) []string {
	words := []string{}
	var word strings.Builder
	inWord := false
	var quote rune
	for _, r := range line {
		switch {
		case quote != 0 && r == quote:
			quote = 0
		case quote != 0:
			word.WriteRune(r)
		case r == '\'' || r == '"':
			quote, inWord = r, true
		case r == ' ' || r == '\t' || r == '\n':
			if inWord {
				words = append(words, word.String())
				word.Reset()
				inWord = false
			}
		default:
			word.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		words = append(words, word.String())
	}
	return words
}
