package transport

import "testing"

// TestRedactBodyLeavesOthersAlone: only the values of secretFields are
// redacted, and only in forms and JSON; names that merely contain one, a
// number and other content types are left as they are.
func TestRedactBodyLeavesOthersAlone(t *testing.T) {
	for _, tc := range []struct{ ct, in string }{
		{"application/json", `{"values":[{"id":1,"jqlFilter":"project = code"}],"codes":"x","error_code":"y"}`},
		{"application/json", `{"code": 400, "message": "bad"}`}, // a number is no secret
		{"text/plain", "code=abc"},
		{"application/x-www-form-urlencoded", "scope=read%3Ajira-work&codes=1"},
	} {
		if got := string(redactBody(tc.ct, []byte(tc.in))); got != tc.in {
			t.Errorf("%s %s: changed to %s", tc.ct, tc.in, got)
		}
	}
}
