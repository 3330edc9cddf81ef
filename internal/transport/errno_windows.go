package transport

import "syscall"

// Winsock's error numbers, which the net package returns unmapped.
const (
	wsaECONNABORTED        syscall.Errno = 10053
	wsaECONNRESET          syscall.Errno = 10054
	wsaECONNREFUSED        syscall.Errno = 10061
	errorConnectionRefused syscall.Errno = 1225
)

// isRefused reports whether errno says that nothing listens at the address.
func isRefused(errno syscall.Errno) bool {
	return errno == wsaECONNREFUSED || errno == errorConnectionRefused || errno == syscall.ECONNREFUSED
}

// isReset reports whether errno says that the other end reset or closed the
// connection.
func isReset(errno syscall.Errno) bool {
	return errno == wsaECONNRESET || errno == wsaECONNABORTED ||
		errno == syscall.ECONNRESET || errno == syscall.ECONNABORTED || errno == syscall.EPIPE
}
