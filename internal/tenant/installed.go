package tenant

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/jwh-cli/jwh/internal/urlpolicy"
)

// maxInstalledSize bounds an installed payload; real ones are under 2 kB.
const maxInstalledSize = 1 << 20

// Installed is the body of a Connect app's "installed" lifecycle callback:
// what Jira tells the app about a site when the app is installed there.
// Fields jwh does not use are ignored.
type Installed struct {
	Key            string `json:"key"`          // the app key
	ClientKey      string `json:"clientKey"`    // the site's client key
	SharedSecret   string `json:"sharedSecret"` // never print it
	BaseURL        string `json:"baseUrl"`
	DisplayURL     string `json:"displayUrl,omitempty"`
	ProductType    string `json:"productType,omitempty"`
	EventType      string `json:"eventType,omitempty"`
	Description    string `json:"description,omitempty"`
	ServerVersion  string `json:"serverVersion,omitempty"`
	PluginsVersion string `json:"pluginsVersion,omitempty"`
}

// String describes the payload without its shared secret, so that a stray
// %v cannot print it.
func (in Installed) String() string {
	return fmt.Sprintf("installed payload (key %q, clientKey %q, baseUrl %q, sharedSecret redacted)", in.Key, in.ClientKey, in.BaseURL)
}

// GoString is String, for %#v.
func (in Installed) GoString() string { return in.String() }

// Tenant returns the tenant the payload describes, called name.
func (in *Installed) Tenant(name string) Tenant {
	return Tenant{Name: name, BaseURL: in.BaseURL, AppKey: in.Key, ClientKey: in.ClientKey}
}

// ParseInstalled reads an installed payload: one JSON object, read up to
// its closing brace (so a stream that stays open after it, such as the
// output of jwh sandbox, works). key, clientKey, sharedSecret and baseUrl
// are required; baseUrl is parsed and normalised with urlpolicy.ParseBaseURL.
func ParseInstalled(r io.Reader) (*Installed, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxInstalledSize))
	var in Installed
	if err := dec.Decode(&in); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, errors.New("installed payload is empty: expected the JSON body of the app's installed callback")
		}
		if errors.Is(err, io.ErrUnexpectedEOF) {
			return nil, fmt.Errorf("installed payload is cut short or larger than %d bytes", maxInstalledSize)
		}
		return nil, fmt.Errorf("installed payload is not a JSON object of the installed callback: %v", err)
	}
	for _, f := range []struct{ name, value string }{
		{"key", in.Key}, {"clientKey", in.ClientKey}, {"sharedSecret", in.SharedSecret}, {"baseUrl", in.BaseURL},
	} {
		if strings.TrimSpace(f.value) == "" {
			return nil, fmt.Errorf("installed payload has no %q field", f.name)
		}
	}
	if in.EventType == "uninstalled" {
		return nil, errors.New(`installed payload is an "uninstalled" event: use the body of the installed callback`)
	}
	u, err := urlpolicy.ParseBaseURL(in.BaseURL)
	if err != nil {
		return nil, fmt.Errorf("installed payload: baseUrl: %w", err)
	}
	in.BaseURL = u.String()
	return &in, nil
}
