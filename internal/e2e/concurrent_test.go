package e2e

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConcurrentTenantChanges runs many jwh tenant import and tenant remove
// processes at once against one config file (without a keyring): every
// import and every removal is kept. Before the config was changed under a
// lock, ten imports at once left four to seven tenants.
func TestConcurrentTenantChanges(t *testing.T) {
	bin := buildJWH(t)
	dir := t.TempDir()
	config := filepath.Join(dir, "jwh", "config.json")
	env := cleanEnv(config)
	var added, removed []string
	for i := range 10 {
		added = append(added, fmt.Sprintf("t%02d", i))
	}
	for i := range 5 {
		removed = append(removed, fmt.Sprintf("r%02d", i))
	}
	changeTenantsAtOnce(t, bin, env, []string{"--no-keyring"}, added, removed)

	fi, err := os.Stat(config)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Errorf("config mode %v, %v; want 0600", fi.Mode().Perm(), err)
	}
	entries, err := os.ReadDir(filepath.Dir(config))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	if got := strings.Join(names, " "); got != "config.json config.json.lock" {
		t.Errorf("the config directory holds %s; want the config and its lock file, no temporary file", got)
	}
}
