// Package atomicfile replaces files that hold private data (the config,
// credentials.json, the sandbox's state, an installed payload, the sandbox's
// OAuth app) so that a reader sees the old content or the new one, never a
// part, and never a moment of looser mode.
package atomicfile

import (
	"os"
	"path/filepath"
)

// WritePrivate replaces the file at path with data, mode 0600: it writes a
// temporary file in the same directory, syncs it, and renames it over path.
// The directory must exist. On error the temporary file is removed and path
// is left as it was.
func WritePrivate(path string, data []byte) (err error) {
	dir := filepath.Dir(path)
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if err := f.Chmod(0o600); err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	if err := f.Close(); err != nil {
		return err
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	// Make the rename durable; not every file system can sync a directory,
	// and the data is already safe in the file.
	if d, err := os.Open(dir); err == nil {
		_ = d.Sync()
		d.Close()
	}
	return nil
}
