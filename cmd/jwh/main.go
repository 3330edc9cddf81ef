// Command jwh manages Jira Cloud dynamic webhooks for Atlassian Connect apps.
package main

import (
	"os"

	"github.com/jwh-cli/jwh/internal/app"
)

func main() { os.Exit(app.Main()) }
