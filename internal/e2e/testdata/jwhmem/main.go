// Command jwhmem is jwh with its secrets in memory instead of the OS
// keyring: the same command tree, transport and worker pool, with a store
// that answers at once. BenchmarkExtendAllTenantsKeyring runs it beside
// jwh to measure jwh extend --all-tenants without any keyring cost. It
// loads the secrets, a JSON object {"TENANT": "secret", ...}, from the
// file that $JWH_MEMORY_SECRETS names, once, when it starts.
package main

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/jwh-cli/jwh/internal/app"
	"github.com/jwh-cli/jwh/internal/tenant"
)

func main() {
	store := tenant.NewMemoryStore()
	data, err := os.ReadFile(os.Getenv("JWH_MEMORY_SECRETS"))
	if err != nil {
		fmt.Fprintln(os.Stderr, "jwhmem: set JWH_MEMORY_SECRETS to a JSON file of secrets:", err)
		os.Exit(2)
	}
	var secrets map[string]string
	if err := json.Unmarshal(data, &secrets); err != nil {
		fmt.Fprintln(os.Stderr, "jwhmem: the secrets file is not a JSON object of strings:", err)
		os.Exit(2)
	}
	for name, s := range secrets {
		if err := store.Set(name, []byte(s)); err != nil {
			fmt.Fprintln(os.Stderr, "jwhmem:", err)
			os.Exit(2)
		}
	}
	os.Exit(app.MainWith(store))
}
