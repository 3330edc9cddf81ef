//go:build keyring

package e2e

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"testing"
	"time"

	dbus "github.com/godbus/dbus/v5"
)

// secretService is the Secret Service's bus name.
const secretService = "org.freedesktop.secrets"

// callMonitor watches, as a D-Bus monitor, the method calls that reach the
// Secret Service on the session bus, from every process on it: what a
// keyring read costs, counted on the wire.
type callMonitor struct {
	msgs chan *dbus.Message
	ping *dbus.Conn // a connection of the monitor's own, for Count's marker
}

// monitorSecretService starts a monitor on the session bus; it stops when
// the test ends.
func monitorSecretService(tb testing.TB) *callMonitor {
	tb.Helper()
	conn, err := dbus.ConnectSessionBus()
	if err != nil {
		tb.Fatalf("connect to the session bus: %v", err)
	}
	tb.Cleanup(func() { conn.Close() })
	ping, err := dbus.ConnectSessionBus()
	if err != nil {
		tb.Fatalf("connect to the session bus: %v", err)
	}
	tb.Cleanup(func() { ping.Close() })
	m := &callMonitor{msgs: make(chan *dbus.Message, 1<<16), ping: ping}
	// A monitor may send nothing once it is one, so every message it gets
	// goes to the channel, and BecomeMonitor expects no reply.
	conn.Eavesdrop(m.msgs)
	rule := "type='method_call',destination='" + secretService + "'"
	call := conn.BusObject().Go("org.freedesktop.DBus.Monitoring.BecomeMonitor", dbus.FlagNoReplyExpected, nil, []string{rule}, uint32(0))
	if call.Err != nil {
		tb.Fatalf("become a D-Bus monitor: %v", call.Err)
	}
	// The bus takes the monitor's unique name away once it monitors:
	// from then on, it sees every call made.
	timeout := time.After(time.Minute)
	for {
		select {
		case msg := <-m.msgs:
			if member, _ := msg.Headers[dbus.FieldMember].Value().(string); msg.Type == dbus.TypeSignal && member == "NameLost" {
				return m
			}
		case <-timeout:
			tb.Fatal("the bus did not make the connection a monitor within a minute")
		}
	}
}

// Count returns the calls to the Secret Service since the last Count, by
// method name ("GetSecret": n; "Get(Attributes)" for a property). It pings
// the Secret Service and counts until the monitor sees that ping, which
// the bus delivers after every call made before it.
func (m *callMonitor) Count(tb testing.TB) map[string]int {
	tb.Helper()
	marker := m.ping.Names()[0]
	if err := m.ping.Object(secretService, "/").Call("org.freedesktop.DBus.Peer.Ping", 0).Err; err != nil {
		tb.Fatalf("ping the Secret Service: %v", err)
	}
	counts := map[string]int{}
	timeout := time.After(time.Minute)
	for {
		select {
		case msg := <-m.msgs:
			if msg.Type != dbus.TypeMethodCall {
				continue
			}
			member, _ := msg.Headers[dbus.FieldMember].Value().(string)
			sender, _ := msg.Headers[dbus.FieldSender].Value().(string)
			if sender == marker && member == "Ping" {
				return counts
			}
			if member == "Get" && len(msg.Body) == 2 {
				// Properties.Get(interface, name): say which property.
				member = fmt.Sprintf("Get(%v)", msg.Body[1])
			}
			counts[member]++
		case <-timeout:
			tb.Fatal("the D-Bus monitor did not see its own ping within a minute")
		}
	}
}

// summary writes counts as "name: n" pairs, most first.
func summary(counts map[string]int) string {
	keys := slices.SortedFunc(maps.Keys(counts), func(a, b string) int {
		return cmp.Or(counts[b]-counts[a], strings.Compare(a, b))
	})
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = fmt.Sprintf("%s: %d", k, counts[k])
	}
	return strings.Join(parts, ", ")
}

// total returns the number of calls in counts.
func total(counts map[string]int) int {
	n := 0
	for _, c := range counts {
		n += c
	}
	return n
}
