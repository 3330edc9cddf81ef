// Package jsonscan checks JSON and reads chosen members of it without
// decoding the rest: where a few fields of a document are wanted many
// times a second (the claims of a token, the summary fields of a webhook
// delivery), walking the bytes costs a fraction of encoding/json's
// reflection. Only names and strings are decoded, and only when asked
// for. What is valid is what encoding/json takes (Valid gives json.Valid's
// answers); the fuzz targets hold the two together.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// Errors of Members and Elements.
var (
	ErrInvalid   = errors.New("not valid JSON")
	ErrNotObject = errors.New("not a JSON object")
)

// Members calls f with the name (decoded as String decodes it) and the
// value (as written, without surrounding space) of each member of the JSON
// object obj, in order, until f returns an error, which Members returns. A
// name that appears twice is seen twice, so that a caller who keeps the
// last value reads what encoding/json would.
//
// Members checks obj as it reads it, in one pass: when obj is not valid
// JSON it returns ErrInvalid, perhaps after calling f for the members
// before the fault; when it is valid but not an object, ErrNotObject.
func Members(obj []byte, f func(name, value []byte) error) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		if Valid(obj) {
			return ErrNotObject
		}
		return ErrInvalid
	}
	i = skipSpace(obj, i+1)
	if i < len(obj) && obj[i] == '}' {
		return end(obj, i+1)
	}
	for {
		if i >= len(obj) || obj[i] != '"' {
			return ErrInvalid
		}
		e, ok := str(obj, i)
		if !ok {
			return ErrInvalid
		}
		name := obj[i+1 : e-1]
		if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			s, _ := String(obj[i:e])
			name = []byte(s)
		}
		i = skipSpace(obj, e)
		if i >= len(obj) || obj[i] != ':' {
			return ErrInvalid
		}
		i = skipSpace(obj, i+1)
		if e, ok = value(obj, i, 1); !ok {
			return ErrInvalid
		}
		if err := f(name, obj[i:e]); err != nil {
			return err
		}
		i = skipSpace(obj, e)
		if i >= len(obj) {
			return ErrInvalid
		}
		switch obj[i] {
		case ',':
			i = skipSpace(obj, i+1)
		case '}':
			return end(obj, i+1)
		default:
			return ErrInvalid
		}
	}
}

// Elements calls f with each element (as written) of the JSON array arr,
// in order, until f returns an error, which Elements returns. It checks
// arr as Members checks an object: ErrInvalid for invalid JSON; when arr
// is valid but not an array, it calls f for nothing and returns nil.
func Elements(arr []byte, f func(value []byte) error) error {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		if Valid(arr) {
			return nil
		}
		return ErrInvalid
	}
	i = skipSpace(arr, i+1)
	if i < len(arr) && arr[i] == ']' {
		return end(arr, i+1)
	}
	for {
		e, ok := value(arr, i, 1)
		if !ok {
			return ErrInvalid
		}
		if err := f(arr[i:e]); err != nil {
			return err
		}
		i = skipSpace(arr, e)
		if i >= len(arr) {
			return ErrInvalid
		}
		switch arr[i] {
		case ',':
			i = skipSpace(arr, i+1)
		case ']':
			return end(arr, i+1)
		default:
			return ErrInvalid
		}
	}
}

// end checks that nothing but space follows the value that ends at i.
func end(data []byte, i int) error {
	if skipSpace(data, i) != len(data) {
		return ErrInvalid
	}
	return nil
}

// String returns the string that the JSON value v is, decoded as
// encoding/json decodes it (invalid UTF-8 becomes U+FFFD), and true; or ""
// and false when v is not a string.
func String(v []byte) (string, bool) {
	if len(v) < 2 || v[0] != '"' || v[len(v)-1] != '"' {
		return "", false
	}
	inner := v[1 : len(v)-1]
	if bytes.IndexByte(inner, '\\') < 0 && utf8.Valid(inner) {
		return string(inner), true
	}
	// Escapes and invalid UTF-8 are rare where this package is used: let
	// encoding/json decode them.
	var s string
	if json.Unmarshal(v, &s) != nil {
		return "", false
	}
	return s, true
}

// IsNull reports whether the JSON value v is null.
func IsNull(v []byte) bool { return string(v) == "null" }

func skipSpace(b []byte, i int) int {
	for i < len(b) && (b[i] == ' ' || b[i] == '\t' || b[i] == '\n' || b[i] == '\r') {
		i++
	}
	return i
}
