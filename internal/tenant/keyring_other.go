//go:build !linux

package tenant

import (
	"context"
	"time"
)

// bulkRead is nil: go-keyring's providers elsewhere (the macOS keychain,
// the Windows credential manager) read one item per call, so the Resolver
// reads the secrets of an all-tenant command one by one, ahead of the
// requests (see Resolver.ReadAhead).
var bulkRead func(ctx context.Context, names []string, timeout time.Duration, found func(name string, secret []byte)) (rest []string)
