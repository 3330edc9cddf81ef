package tenant

import "testing"

func TestValidateName(t *testing.T) {
	for _, name := range []string{"acme", "acme.atlassian.net", "127.0.0.1", "a_b-c", "A1"} {
		if err := ValidateName(name); err != nil {
			t.Errorf("ValidateName(%q): %v", name, err)
		}
	}
	bad := map[string]string{
		"":       "tenant name is empty",
		"-x":     `invalid tenant name "-x": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"a b":    `invalid tenant name "a b": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"a/b":    `invalid tenant name "a/b": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"é":      `invalid tenant name "é": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"::1":    `invalid tenant name "::1": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		"a\nb":   `invalid tenant name "a\nb": use letters, digits, '.', '-' and '_', starting with a letter or digit`,
		longName: `tenant name "` + longName + `" is longer than 64 characters`,
	}
	for name, want := range bad {
		if err := ValidateName(name); err == nil || err.Error() != want {
			t.Errorf("ValidateName(%q) = %v\nwant %s", name, err, want)
		}
	}
}

const longName = "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa" // 65
