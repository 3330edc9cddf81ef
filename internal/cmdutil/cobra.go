package cmdutil

import (
	"errors"
	"fmt"
	"net"
	"strconv"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// FlagErrorFunc is the root command's cobra.FlagErrorFunc: a flag that
// cannot be parsed is a usage error, and a value that does not parse as the
// flag's type is reworded from Go's parser message (strconv.ParseInt:
// parsing "x": invalid syntax) into what to give instead.
func FlagErrorFunc(cmd *cobra.Command, err error) error {
	return &FlagError{Err: flagValueError(err)}
}

func flagValueError(err error) error {
	var ive *pflag.InvalidValueError
	if !errors.As(err, &ive) || ive.GetFlag() == nil {
		return err
	}
	var want string
	var numErr *strconv.NumError
	switch typ := ive.GetFlag().Value.Type(); {
	case typ == "duration":
		want = "a duration such as 30s, 5m or 1h"
	case errors.As(ive, &numErr) && strings.HasPrefix(typ, "float"):
		want = "a number"
	case errors.As(ive, &numErr) && numErr.Err == strconv.ErrRange:
		want = "a smaller number"
	case errors.As(ive, &numErr):
		want = "a whole number"
	default:
		return err
	}
	return fmt.Errorf("invalid value %q for --%s: use %s", ive.GetValue(), ive.GetFlag().Name, want)
}

// ExactArgs is cobra.ExactArgs with a usage error that names what is missing.
func ExactArgs(n int, what string) cobra.PositionalArgs { return RangeArgs(n, n, what) }

// RangeArgs is cobra.RangeArgs with usage errors: "missing WHAT" below min,
// the first extra argument above max.
func RangeArgs(min, max int, what string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) < min {
			return UsageErrorf("missing %s", what)
		}
		if len(args) > max {
			return UsageErrorf("unexpected argument %q", args[max])
		}
		return nil
	}
}

// NoArgs refuses positional arguments with a usage error.
func NoArgs(cmd *cobra.Command, args []string) error {
	if len(args) > 0 {
		return UsageErrorf("unexpected argument %q for %q", args[0], cmd.CommandPath())
	}
	return nil
}

// MaxArgs refuses more than n positional arguments.
func MaxArgs(n int) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		if len(args) > n {
			return UsageErrorf("unexpected argument %q", args[n])
		}
		return nil
	}
}

// SplitList returns the values of a repeatable flag that also takes comma
// lists, trimmed, without empty items.
func SplitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, item := range strings.Split(v, ",") {
			if item = strings.TrimSpace(item); item != "" {
				out = append(out, item)
			}
		}
	}
	return out
}

// MutuallyExclusive returns a usage error when more than one of the
// conditions holds.
func MutuallyExclusive(message string, conditions ...bool) error {
	n := 0
	for _, c := range conditions {
		if c {
			n++
		}
	}
	if n > 1 {
		return UsageErrorf("%s", message)
	}
	return nil
}

// CheckAddr checks the host:port value of a listening flag such as --addr
// before anything is started, so that a typo is bad input (exit status 2)
// rather than a failure to listen.
func CheckAddr(flag, addr string) error {
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		_, err = strconv.ParseUint(port, 10, 16)
	}
	if err != nil || strings.ContainsAny(host, " /") {
		return UsageErrorf("invalid %s %q: use host:port, e.g. 127.0.0.1:8080 (port 0 picks a free one)", flag, addr)
	}
	return nil
}

// ListenError explains why a listening flag's address could not be bound,
// without the "listen tcp ADDR:" prefix that net.Listen's error repeats.
func ListenError(addr string, err error) error {
	var op *net.OpError
	if errors.As(err, &op) && op.Err != nil {
		err = op.Err
	}
	return fmt.Errorf("cannot listen on %s: %w; choose another address with --addr", addr, err)
}

// annotationNeverWaits is the cobra annotation that NeverWaits sets.
const annotationNeverWaits = "jwh/never-waits"

// NeverWaits marks cmd as a command that only prints what is built into
// jwh (jwh version, jwh completion, the help of jwh on its own), and
// returns it. app.Run runs such a command without asking for SIGINT and
// SIGTERM: it has nothing to cut short, and asking would take longer than
// the command (docs/performance.md).
func NeverWaits(cmd *cobra.Command) *cobra.Command {
	if cmd.Annotations == nil {
		cmd.Annotations = map[string]string{}
	}
	cmd.Annotations[annotationNeverWaits] = "true"
	return cmd
}

// MayWait reports whether cmd may wait on something (the network, a lock,
// a prompt, a signal): whether it is not marked with NeverWaits.
func MayWait(cmd *cobra.Command) bool { return cmd.Annotations[annotationNeverWaits] == "" }
