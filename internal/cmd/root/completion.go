package root

import (
	"github.com/spf13/cobra"

	"github.com/jwh-cli/jwh/internal/cmdutil"
)

func newCmdCompletion(f *cmdutil.Factory) *cobra.Command {
	return &cobra.Command{
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
			out := f.IOStreams.Out
			root := cmd.Root()
			switch args[0] {
			case "bash":
				return root.GenBashCompletionV2(out, true)
			case "zsh":
				return root.GenZshCompletion(out)
			case "fish":
				return root.GenFishCompletion(out, true)
			case "powershell":
				return root.GenPowerShellCompletionWithDesc(out)
			}
			return cmdutil.UsageErrorf("unsupported shell %q: use bash, zsh, fish or powershell", args[0])
		},
	}
}
