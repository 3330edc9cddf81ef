// Package jsonscan checks JSON and reads chosen members of it without
// decoding the rest: where a few fields of a document are wanted many
// times a second (the claims of a token, the summary fields of a webhook
// delivery), walking the bytes costs a fraction of encoding/json's
// reflection. Only names and strings are decoded, and only when asked
// for. Valid answers as json.Valid does, and faster.
//
// Members, Elements and String expect valid JSON (check it with Valid
// first): given anything else, they may return nonsense, but never read
// out of bounds or panic.
package jsonscan

import (
	"bytes"
	"encoding/json"
	"errors"
	"unicode/utf8"
)

// ErrNotObject is the error of Members for JSON that is not an object.
var ErrNotObject = errors.New("not a JSON object")

// Members calls f with the name (decoded as String decodes it) and the value (as written,
// without surrounding space) of each member of the JSON object obj, in
// order, until f returns an error, which Members returns. A name that
// appears twice is seen twice, so that a caller who keeps the last value
// reads what encoding/json would. obj must be valid JSON; if it is not an
// object, Members returns ErrNotObject.
func Members(obj []byte, f func(name, value []byte) error) error {
	i := skipSpace(obj, 0)
	if i >= len(obj) || obj[i] != '{' {
		return ErrNotObject
	}
	i = skipSpace(obj, i+1)
	for i < len(obj) && obj[i] == '"' {
		end := skipValue(obj, i)
		name := obj[i+1 : max(i+1, end-1)]
		if bytes.IndexByte(name, '\\') >= 0 || !utf8.Valid(name) {
			s, _ := String(obj[i:end])
			name = []byte(s)
		}
		i = skipSpace(obj, end)
		if i < len(obj) && obj[i] == ':' {
			i = skipSpace(obj, i+1)
		}
		end = skipValue(obj, i)
		if err := f(name, obj[i:end]); err != nil {
			return err
		}
		i = skipSpace(obj, end)
		if i < len(obj) && obj[i] == ',' {
			i = skipSpace(obj, i+1)
		}
	}
	return nil
}

// Elements calls f with each element (as written) of the JSON array arr,
// in order, until f returns an error, which Elements returns. arr must be
// valid JSON; if it is not an array, f is not called.
func Elements(arr []byte, f func(value []byte) error) error {
	i := skipSpace(arr, 0)
	if i >= len(arr) || arr[i] != '[' {
		return nil
	}
	i = skipSpace(arr, i+1)
	for i < len(arr) && arr[i] != ']' {
		end := skipValue(arr, i)
		if end == i {
			return nil // not valid JSON
		}
		if err := f(arr[i:end]); err != nil {
			return err
		}
		i = skipSpace(arr, end)
		if i < len(arr) && arr[i] == ',' {
			i = skipSpace(arr, i+1)
		}
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

// skipValue returns the end of the JSON value that starts at b[i].
func skipValue(b []byte, i int) int {
	if i >= len(b) {
		return i
	}
	switch b[i] {
	case '"':
		for i++; i < len(b); i++ {
			switch b[i] {
			case '\\':
				i++
			case '"':
				return i + 1
			}
		}
		return len(b)
	case '{', '[':
		depth := 0
		for ; i < len(b); i++ {
			switch b[i] {
			case '"':
				i = skipValue(b, i) - 1
			case '{', '[':
				depth++
			case '}', ']':
				if depth--; depth == 0 {
					return i + 1
				}
			}
		}
		return len(b)
	}
	for i < len(b) && !isDelimiter(b[i]) {
		i++
	}
	return i
}

// isDelimiter reports whether c ends a number or a literal.
func isDelimiter(c byte) bool {
	switch c {
	case ',', '}', ']', ' ', '\t', '\r', '\n':
		return true
	}
	return false
}
