package tenant

import "fmt"

// ValidateName checks a tenant name: 1 to 64 letters, digits, '.', '-' or
// '_', starting with a letter or digit. Names are keyring user names and
// appear in messages and commands, so they stay plain.
func ValidateName(name string) error {
	if name == "" {
		return fmt.Errorf("tenant name is empty")
	}
	if len(name) > 64 {
		return fmt.Errorf("tenant name %q is longer than 64 characters", name)
	}
	for i, r := range name {
		ok := r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' ||
			i > 0 && (r == '.' || r == '-' || r == '_')
		if !ok {
			return fmt.Errorf("invalid tenant name %q: use letters, digits, '.', '-' and '_', starting with a letter or digit", name)
		}
	}
	return nil
}
