package cmdutil

import (
	"errors"
	"io"
	"io/fs"
	"os"

	"github.com/jwh-cli/jwh/internal/iostreams"
)

// MaxInput bounds what ReadInput reads: a register body for 100 webhooks
// is far below it.
const MaxInput = 8 << 20

// ReadInput reads the file at path, or standard input for "-", up to
// MaxInput bytes. Its errors are input errors (exit status 2).
func ReadInput(ios *iostreams.IOStreams, path string) ([]byte, error) {
	var r io.Reader = ios.In
	name := "standard input"
	if path != "-" {
		f, err := os.Open(path)
		if err != nil {
			var pe *fs.PathError
			if errors.As(err, &pe) {
				err = pe.Err // "no such file or directory", without Go's "open"
			}
			return nil, InputErrorf("cannot read %s: %v", path, err)
		}
		defer f.Close()
		r, name = f, path
	}
	b, err := io.ReadAll(io.LimitReader(r, MaxInput+1))
	if err != nil {
		return nil, InputErrorf("read %s: %w", name, err)
	}
	if len(b) > MaxInput {
		return nil, InputErrorf("read %s: larger than %d MiB", name, MaxInput>>20)
	}
	return b, nil
}
