package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"testing"
)

// members returns the members of obj as Members reads them, the last
// value of each name.
func members(t testing.TB, obj []byte) (map[string]string, []string, error) {
	m := map[string]string{}
	var names []string
	err := Members(obj, func(name, value []byte) error {
		m[string(name)] = string(value)
		names = append(names, string(name))
		return nil
	})
	return m, names, err
}

func TestMembers(t *testing.T) {
	obj := []byte(` { "a" : 1 , "b\"}" : "x,}\\\"" , "c":{"d":[1,{"e":"]"}]}, "\u0066":null,"g":[ ],"h":-1.5e+3,"i":true ,"a":"again"} `)
	got, names, err := members(t, obj)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]string{
		"a": `"again"`, `b"}`: `"x,}\\\""`, "c": `{"d":[1,{"e":"]"}]}`, "f": "null", "g": "[ ]", "h": "-1.5e+3", "i": "true",
	}
	if len(got) != len(want) {
		t.Errorf("got %q, want %q", got, want)
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%q: got %q, want %q", k, got[k], v)
		}
	}
	if wantNames := []string{"a", `b"}`, "c", "f", "g", "h", "i", "a"}; !slices.Equal(names, wantNames) {
		t.Errorf("names %q, want %q", names, wantNames)
	}

	stop := errors.New("stop")
	n := 0
	if err := Members(obj, func(name, value []byte) error { n++; return stop }); err != stop || n != 1 {
		t.Errorf("stopping: %v after %d members", err, n)
	}
	for _, notObject := range []string{`[]`, `"{}"`, `null`, ` 1`, ``} {
		if err := Members([]byte(notObject), func(name, value []byte) error { return nil }); err != ErrNotObject {
			t.Errorf("%q: %v, want ErrNotObject", notObject, err)
		}
	}
}

func TestElements(t *testing.T) {
	var got []string
	Elements([]byte(`[ 1, "a,]" ,{"b":[2]},null,[] ]`), func(v []byte) error {
		got = append(got, string(v))
		return nil
	})
	if want := []string{"1", `"a,]"`, `{"b":[2]}`, "null", "[]"}; !slices.Equal(got, want) {
		t.Errorf("got %q, want %q", got, want)
	}
	Elements([]byte(`{"a":1}`), func(v []byte) error { t.Errorf("an element of an object: %s", v); return nil })
}

func TestString(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want string
		ok   bool
	}{
		{`"plain"`, "plain", true},
		{`""`, "", true},
		{`"a\"b\\c\/d\u00e9\n"`, "a\"b\\c/dé\n", true},
		{"\"\xff\"", "\uFFFD", true},
		{`1`, "", false},
		{`null`, "", false},
		{`"`, "", false},
	} {
		got, ok := String([]byte(tc.in))
		if got != tc.want || ok != tc.ok {
			t.Errorf("%s: %q, %v; want %q, %v", tc.in, got, ok, tc.want, tc.ok)
		}
	}
}

// FuzzMembers checks Members against encoding/json on any valid object:
// the same names, each with its last value as written.
func FuzzMembers(f *testing.F) {
	f.Add([]byte(`{"a":1,"b":{"c":[1,"]}"]},"a":"\u0041"}`))
	f.Add([]byte(`{"webhookEvent":"jira:issue_updated","user":{"displayName":"A"},"matchedWebhookIds":[1,2]}`))
	f.Add([]byte(`{}`))
	f.Fuzz(func(t *testing.T, obj []byte) {
		if !json.Valid(obj) {
			// Anything goes but a panic.
			Members(obj, func(name, value []byte) error { return Elements(value, func([]byte) error { return nil }) })
			return
		}
		var want map[string]json.RawMessage
		wantErr := json.Unmarshal(obj, &want)
		got, _, err := members(t, obj)
		if (err != nil) != (wantErr != nil || want == nil) {
			t.Fatalf("%s: Members %v, encoding/json %v", obj, err, wantErr)
		}
		if err != nil {
			return
		}
		if len(got) != len(want) {
			t.Fatalf("%s: %d names, encoding/json %d", obj, len(got), len(want))
		}
		for k, v := range want {
			if g, ok := got[k]; !ok || !bytes.Equal([]byte(g), v) {
				t.Fatalf("%s: %q is %q, encoding/json %q", obj, k, g, v)
			}
		}
	})
}
