package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"slices"
	"strings"
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
	for _, notObject := range []string{`[]`, `"{}"`, `null`, ` 1`} {
		if err := Members([]byte(notObject), func(name, value []byte) error { return nil }); err != ErrNotObject {
			t.Errorf("%q: %v, want ErrNotObject", notObject, err)
		}
	}
	for _, invalid := range []string{``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `{"a":1 "b":2}`, `{"a":1} x`, `{"a":[1,]}`, `{a:1}`, `[1,`} {
		if err := Members([]byte(invalid), func(name, value []byte) error { return nil }); err != ErrInvalid {
			t.Errorf("%q: %v, want ErrInvalid", invalid, err)
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
	if err := Elements([]byte(`{"a":1}`), func(v []byte) error { t.Errorf("an element of an object: %s", v); return nil }); err != nil {
		t.Errorf("an object: %v", err)
	}
	for _, invalid := range []string{``, `[`, `[1,]`, `[1 2]`, `[1]]`, `[}`} {
		if err := Elements([]byte(invalid), func([]byte) error { return nil }); err != ErrInvalid {
			t.Errorf("%q: %v, want ErrInvalid", invalid, err)
		}
	}
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
			if err := Members(obj, func(name, value []byte) error { return nil }); err != ErrInvalid {
				t.Fatalf("%q is not JSON: Members %v, want ErrInvalid", obj, err)
			}
			if err := Elements(obj, func(value []byte) error { return nil }); err != ErrInvalid {
				t.Fatalf("%q is not JSON: Elements %v, want ErrInvalid", obj, err)
			}
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

func TestValid(t *testing.T) {
	for _, s := range []string{
		`{}`, ` [ ] `, `"a\u00e9\n\"\\\/"`, `-0.5e+10`, `0`, `1E5`, `true`, `false`, `null`,
		`{"a":[1,{"b":null}],"c":"\ud83d\ude00"}`, "\"\xff\"",
		``, ` `, `{`, `{"a"}`, `{"a":}`, `{"a":1,}`, `[1,]`, `[,1]`, `01`, `-`, `1.`, `.5`, `1e`, `+1`,
		`tru`, `nul`, `"\x"`, `"\u12"`, "\"\x01\"", `"abc`, `{} {}`, `{"a":1 "b":2}`, `[1 2]`, `{1:2}`,
		strings.Repeat("[", 10001) + strings.Repeat("]", 10001), strings.Repeat("[", 10000) + strings.Repeat("]", 10000),
	} {
		if got, want := Valid([]byte(s)), json.Valid([]byte(s)); got != want {
			t.Errorf("%.40q: Valid %v, json.Valid %v", s, got, want)
		}
	}
}

// FuzzValid holds Valid to json.Valid.
func FuzzValid(f *testing.F) {
	f.Add([]byte(`{"a":[1,-2.5e3,true,false,null,"x\u0041\n"],"b":{}}`))
	f.Add([]byte(`[01]`))
	f.Fuzz(func(t *testing.T, data []byte) {
		if got, want := Valid(data), json.Valid(data); got != want {
			t.Fatalf("%q: Valid %v, json.Valid %v", data, got, want)
		}
	})
}

// delivery is a webhook body as Jira sends one.
var delivery = []byte(`{"timestamp":1714000000123,"webhookEvent":"jira:issue_updated","issue_event_type_name":"issue_generic","user":{"accountId":"5b10a2844c20165700ede21g","displayName":"Alice Smith"},"issue":{"id":"10002","key":"PRJ-1","fields":{"summary":"Fix the \u00e9t\u00e9 bug","status":{"name":"Done"}}},"matchedWebhookIds":[1000,1001]}`)

// go test -run '^$' -bench . -benchmem ./internal/jsonscan
func BenchmarkValid(b *testing.B) {
	b.SetBytes(int64(len(delivery)))
	for b.Loop() {
		if !Valid(delivery) {
			b.Fatal("invalid")
		}
	}
}

func BenchmarkJSONValid(b *testing.B) {
	b.SetBytes(int64(len(delivery)))
	for b.Loop() {
		if !json.Valid(delivery) {
			b.Fatal("invalid")
		}
	}
}
