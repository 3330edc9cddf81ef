package root

import (
	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
	"github.com/jwh-cli/jwh/internal/iostreams"
)

// CompletionOptions are the inputs of jwh completion.
type CompletionOptions struct {
	IO *iostreams.IOStreams
	// Root is the command tree to complete.
	Root *cobra.Command

	Shell string // bash, zsh, fish or powershell
}

// NewCmdCompletion returns jwh completion. Tests pass runF to see the
// parsed Options.
func NewCmdCompletion(f *cmdutil.Factory, runF func(*CompletionOptions) error) *cobra.Command {
	return cmdutil.NeverWaits(&cobra.Command{
		Use:   "completion {bash|zsh|fish|powershell}",
		Short: "Print a shell completion script",
		Long: `Print a completion script for the given shell.

  bash:        source <(jwh completion bash)
  zsh:         jwh completion zsh > "${fpath[1]}/_jwh"
  fish:        jwh completion fish > ~/.config/fish/completions/jwh.fish
  powershell:  jwh completion powershell | Out-String | Invoke-Expression`,
		ValidArgs: []string{"bash", "zsh", "fish", "powershell"},
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 1 {
				return cmdutil.UsageErrorf("name a shell: bash, zsh, fish or powershell")
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			switch args[0] {
			case "bash", "zsh", "fish", "powershell":
			default:
				return cmdutil.UsageErrorf("unsupported shell %q: use bash, zsh, fish or powershell", args[0])
			}
			opts := &CompletionOptions{IO: f.IOStreams, Root: cmd.Root(), Shell: args[0]}
			if runF != nil {
				return runF(opts)
			}
			return completionRun(opts)
		},
	})
}

func completionRun(opts *CompletionOptions) error {
	out := opts.IO.Out
	switch opts.Shell {
	case "zsh":
		return opts.Root.GenZshCompletion(out)
	case "fish":
		return opts.Root.GenFishCompletion(out, true)
	case "powershell":
		return opts.Root.GenPowerShellCompletionWithDesc(out)
	}
	return opts.Root.GenBashCompletionV2(out, true)
}
