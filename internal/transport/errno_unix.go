//go:build !windows

package transport

import "syscall"

// isRefused reports whether errno says that nothing listens at the address.
func isRefused(errno syscall.Errno) bool { return errno == syscall.ECONNREFUSED }

// isReset reports whether errno says that the other end reset or closed the
// connection.
func isReset(errno syscall.Errno) bool {
	return errno == syscall.ECONNRESET || errno == syscall.ECONNABORTED || errno == syscall.EPIPE
}
