package cmdutil

import (
	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// The names of the global flags.
const (
	flagTenant = "tenant"
	flagOutput = "output"
	flagDebug  = "debug"
)

// Globals are the values of the flags that every command inherits from the
// root command. A command reads them in its RunE with GlobalsOf and keeps
// what it needs in its Options.
type Globals struct {
	Tenant string // --tenant/-t; "" leaves the choice to JWH_TENANT, the default tenant or the only one
	JSON   bool   // -o json
	Debug  bool   // --debug
}

// AddGlobalFlags defines the global flags as persistent flags of root:
// --tenant/-t, -o/--output and --debug.
func AddGlobalFlags(root *cobra.Command) {
	pf := root.PersistentFlags()
	pf.StringP(flagTenant, "t", "", "tenant `name` (default: $JWH_TENANT, the default tenant, or the only one)")
	pf.StringP(flagOutput, "o", "table", "output `format`: table or json")
	pf.Bool(flagDebug, false, "print every HTTP exchange on stderr (Authorization redacted)")
	_ = root.RegisterFlagCompletionFunc(flagOutput, cobra.FixedCompletions([]string{"table", "json"}, cobra.ShellCompDirectiveNoFileComp))
}

// CheckGlobalFlags refuses an -o value other than table or json. The root
// command runs it before every command.
func CheckGlobalFlags(cmd *cobra.Command) error {
	f := globalFlag(cmd, flagOutput)
	if f == nil {
		return nil
	}
	switch v := f.Value.String(); v {
	case "table", "json":
		return nil
	default:
		return UsageErrorf("invalid value %q for --output: use table or json", v)
	}
}

// GlobalsOf returns the global flags as cmd was run with them. A command
// built without the root command, as in a test, has the zero Globals.
func GlobalsOf(cmd *cobra.Command) Globals {
	var g Globals
	if f := globalFlag(cmd, flagTenant); f != nil {
		g.Tenant = f.Value.String()
	}
	if f := globalFlag(cmd, flagOutput); f != nil {
		g.JSON = f.Value.String() == "json"
	}
	if f := globalFlag(cmd, flagDebug); f != nil {
		g.Debug = f.Value.String() == "true"
	}
	return g
}

// globalFlag returns the flag called name that cmd inherits (or, for the
// root command, defines), or nil.
func globalFlag(cmd *cobra.Command, name string) *pflag.Flag {
	if f := cmd.InheritedFlags().Lookup(name); f != nil {
		return f
	}
	return cmd.PersistentFlags().Lookup(name)
}
