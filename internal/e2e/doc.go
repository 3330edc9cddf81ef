// Package e2e holds end-to-end tests that build the jwh binary and run it
// as a user would. The real-keyring tests need the build tag keyring and a
// Secret Service on the session bus (see .ci/run):
//
//	env -u DISPLAY dbus-run-session -- sh ../shared/tools/with-keyring.sh \
//	    go test -tags keyring -run Keyring -count=1 -v ./internal/e2e
package e2e
