package tenant

import (
	"context"
	"errors"
	"slices"
	"time"

	dbus "github.com/godbus/dbus/v5"
)

// The Secret Service's names (org.freedesktop.secrets, the D-Bus API that
// gnome-keyring and KWallet serve), as go-keyring uses them.
const (
	ssName         = "org.freedesktop.secrets"
	ssPath         = "/org/freedesktop/secrets"
	ssService      = "org.freedesktop.Secret.Service"
	ssCollection   = "org.freedesktop.Secret.Collection"
	ssItem         = "org.freedesktop.Secret.Item"
	ssSession      = "org.freedesktop.Secret.Session"
	ssPrompt       = "org.freedesktop.Secret.Prompt"
	ssLogin        = dbus.ObjectPath("/org/freedesktop/secrets/collection/login")
	ssDefaultAlias = dbus.ObjectPath("/org/freedesktop/secrets/aliases/default")
	ssNoPrompt     = dbus.ObjectPath("/")
)

// ssSecret is the Secret Service's Secret struct, (oayays).
type ssSecret struct {
	Session     dbus.ObjectPath
	Parameters  []byte
	Value       []byte
	ContentType string
}

// ssChunk is how many items readSecretService asks the attributes of at
// once, and so how many secrets one GetSecrets call returns at most: few
// round trips, and the first secrets back after a few milliseconds.
const ssChunk = 64

// bulkRead is readSecretService: go-keyring's provider on Linux is the
// Secret Service.
var bulkRead = readSecretService

// readSecretService reads the secrets of names from the Secret Service in
// a few calls rather than go-keyring's seven for each (find the
// collection, unlock it, search, open a session, unlock the item, get the
// secret, close). In the collection go-keyring uses ("login", else the
// default alias), unlocked without a prompt, it searches every item of
// service jwh once, opens one session, then, ssChunk items at a time,
// reads their attributes (asked for at once) and the secrets of those
// whose username is a name it wants in one GetSecrets call, calling found
// with each.
//
// It leaves to go-keyring, by returning them, the names it did not read:
// missing, empty, on a locked item, or every one not read yet when the
// collection needs an unlock prompt (go-keyring shows it, as it always
// has), when a call fails or does not answer within timeout, or when ctx
// is done. When two items name the same tenant, which only other tools
// make, it reads the first that the search returns. With many more items
// of service jwh than names, reading every item's attributes would cost
// more than a Get per name, so it reads none.
func readSecretService(ctx context.Context, names []string, timeout time.Duration, found func(name string, secret []byte)) (rest []string) {
	want := make(map[string]bool, len(names))
	for _, n := range names {
		want[n] = true
	}
	defer func() {
		rest = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return !want[n] })
	}()
	conn, err := sessionBus(timeout)
	if err != nil {
		return
	}
	call := func(obj dbus.BusObject, method string, args ...any) *dbus.Call {
		cctx, cancel := context.WithTimeout(ctx, timeout)
		defer cancel()
		return obj.CallWithContext(cctx, method, 0, args...)
	}
	svc := conn.Object(ssName, ssPath)

	coll := ssDefaultAlias
	var colls []dbus.ObjectPath
	if err := call(svc, "org.freedesktop.DBus.Properties.Get", ssService, "Collections").Store(&colls); err == nil && slices.Contains(colls, ssLogin) {
		coll = ssLogin
	}
	var unlocked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	err = call(svc, ssService+".Unlock", []dbus.ObjectPath{coll}).Store(&unlocked, &prompt)
	if err != nil || len(unlocked) != 1 || (coll != ssDefaultAlias && unlocked[0] != coll) {
		if err == nil && prompt != ssNoPrompt {
			call(conn.Object(ssName, prompt), ssPrompt+".Dismiss")
		}
		return
	}
	var items []dbus.ObjectPath
	if err := call(conn.Object(ssName, coll), ssCollection+".SearchItems", map[string]string{"service": KeyringService}).Store(&items); err != nil {
		return
	}
	if len(items) == 0 || len(items) > 4*len(names) {
		return
	}
	var session dbus.ObjectPath
	var output dbus.Variant
	if err := call(svc, ssService+".OpenSession", "plain", dbus.MakeVariant("")).Store(&output, &session); err != nil {
		return
	}
	defer func() {
		cctx, cancel := context.WithTimeout(context.Background(), timeout)
		defer cancel()
		conn.Object(ssName, session).CallWithContext(cctx, ssSession+".Close", 0)
	}()

	taken := make(map[string]bool) // names of the items seen so far
	for chunk := range slices.Chunk(items, ssChunk) {
		owners, err := itemOwners(ctx, conn, chunk, timeout)
		if err != nil {
			return
		}
		var paths []dbus.ObjectPath
		for _, p := range chunk {
			name, ok := owners[p]
			if !ok || taken[name] {
				continue
			}
			taken[name] = true
			if want[name] {
				paths = append(paths, p)
			}
		}
		if len(paths) == 0 {
			continue
		}
		if err := call(svc, ssService+".Unlock", paths).Store(&unlocked, &prompt); err != nil {
			return
		}
		if prompt != ssNoPrompt {
			call(conn.Object(ssName, prompt), ssPrompt+".Dismiss")
		}
		if len(unlocked) == 0 {
			continue
		}
		var secrets map[dbus.ObjectPath]ssSecret
		if err := call(svc, ssService+".GetSecrets", unlocked, session).Store(&secrets); err != nil {
			return
		}
		for _, p := range paths {
			s, ok := secrets[p]
			if !ok || len(s.Value) == 0 {
				continue
			}
			name := owners[p]
			want[name] = false
			found(name, s.Value)
		}
	}
	return
}

// itemOwners returns the username attribute of each item of service jwh
// among items, asking for all of their attributes at once. An item whose
// attributes cannot be read (deleted since the search) is left out; a
// call that does not answer within timeout fails them all.
func itemOwners(ctx context.Context, conn *dbus.Conn, items []dbus.ObjectPath, timeout time.Duration) (map[dbus.ObjectPath]string, error) {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	done := make(chan *dbus.Call, len(items))
	calls := make([]*dbus.Call, len(items))
	for i, p := range items {
		calls[i] = conn.Object(ssName, p).GoWithContext(ctx, "org.freedesktop.DBus.Properties.Get", 0, done, ssItem, "Attributes")
	}
	for range calls {
		<-done // every call ends: answered, or failed when ctx is done
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	owners := make(map[dbus.ObjectPath]string, len(items))
	for i, c := range calls {
		var attrs map[string]string
		if c.Store(&attrs) != nil || attrs["service"] != KeyringService {
			continue
		}
		if name, ok := attrs["username"]; ok {
			owners[items[i]] = name
		}
	}
	return owners, nil
}

// sessionBus returns go-keyring's connection to the session bus (dbus's
// shared one), connecting within timeout.
func sessionBus(timeout time.Duration) (*dbus.Conn, error) {
	type result struct {
		conn *dbus.Conn
		err  error
	}
	done := make(chan result, 1)
	go func() {
		conn, err := dbus.SessionBus()
		done <- result{conn, err}
	}()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.conn, r.err
	case <-timer.C:
		return nil, errors.New("no session bus within the timeout")
	}
}
