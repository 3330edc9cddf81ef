package tenant

import (
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func fmtAll(v any) string {
	return fmt.Sprintf("%v %+v %#v %s", v, v, v, v)
}

func TestParseInstalled(t *testing.T) {
	payload := `{
  "key": "com.example.app",
  "clientKey": "e6e4e2c1-0000-4000-8000-000000000001",
  "publicKey": "MIGf...",
  "sharedSecret": "s3cret",
  "serverVersion": "100",
  "pluginsVersion": "1.0",
  "baseUrl": "https://acme.atlassian.net/",
  "displayUrl": "https://jira.acme.com",
  "productType": "jira",
  "description": "Atlassian JIRA at https://acme.atlassian.net",
  "eventType": "installed",
  "somethingNew": {"nested": [1, 2]}
}`
	in, err := ParseInstalled(strings.NewReader(payload))
	if err != nil {
		t.Fatal(err)
	}
	want := Installed{
		Key: "com.example.app", ClientKey: "e6e4e2c1-0000-4000-8000-000000000001", SharedSecret: "s3cret",
		BaseURL: "https://acme.atlassian.net", DisplayURL: "https://jira.acme.com", ProductType: "jira",
		EventType: "installed", Description: "Atlassian JIRA at https://acme.atlassian.net",
		ServerVersion: "100", PluginsVersion: "1.0",
	}
	if *in != want {
		t.Errorf("got  %+v\nwant %+v", *in, want)
	}
	if got := in.Tenant("acme"); !reflect.DeepEqual(got, Tenant{Name: "acme", BaseURL: "https://acme.atlassian.net", AppKey: "com.example.app", ClientKey: want.ClientKey}) {
		t.Errorf("Tenant: %+v", got)
	}
}

// TestParseInstalledStopsAtObjectEnd: a stream that stays open after the
// object (jwh sandbox piped in) is not read to its end.
func TestParseInstalledStopsAtObjectEnd(t *testing.T) {
	pr, pw := io.Pipe()
	defer pr.Close()
	go func() {
		_, _ = io.WriteString(pw, `{"key":"k","clientKey":"ck","sharedSecret":"s","baseUrl":"http://127.0.0.1:4000"}`+"\nsandbox ready\n")
		// Keep the writer open, as a running sandbox does; Close in the
		// deferred pr.Close unblocks it.
		_, _ = io.WriteString(pw, "more")
	}()
	in, err := ParseInstalled(pr)
	if err != nil || in.BaseURL != "http://127.0.0.1:4000" {
		t.Fatalf("got %v, %v", in, err)
	}
}

func TestParseInstalledErrors(t *testing.T) {
	full := map[string]string{"key": "k", "clientKey": "ck", "sharedSecret": "s", "baseUrl": "https://a.example"}
	without := func(field string) string {
		var parts []string
		for _, k := range []string{"key", "clientKey", "sharedSecret", "baseUrl"} {
			if k != field {
				parts = append(parts, fmt.Sprintf("%q: %q", k, full[k]))
			}
		}
		return "{" + strings.Join(parts, ", ") + "}"
	}
	tests := []struct {
		name, in, want string
	}{
		{"empty", "", "installed payload is empty: expected the JSON body of the app's installed callback"},
		{"not json", "key=k", "installed payload is not a JSON object of the installed callback: invalid character 'k' looking for beginning of value"},
		{"array", "[1]", "installed payload is not a JSON object of the installed callback: json: cannot unmarshal array into Go value of type tenant.Installed"},
		{"cut short", `{"key": "k"`, "installed payload is cut short or larger than 1048576 bytes"},
		{"no key", without("key"), `installed payload has no "key" field`},
		{"no clientKey", without("clientKey"), `installed payload has no "clientKey" field`},
		{"no sharedSecret", without("sharedSecret"), `installed payload has no "sharedSecret" field`},
		{"no baseUrl", without("baseUrl"), `installed payload has no "baseUrl" field`},
		{"blank key", `{"key": " ", "clientKey": "ck", "sharedSecret": "s", "baseUrl": "https://a.example"}`, `installed payload has no "key" field`},
		{"uninstalled", `{"key": "k", "clientKey": "ck", "sharedSecret": "s", "baseUrl": "https://a.example", "eventType": "uninstalled"}`,
			`installed payload is an "uninstalled" event: use the body of the installed callback`},
		{"http", `{"key": "k", "clientKey": "ck", "sharedSecret": "s", "baseUrl": "http://a.example"}`,
			`installed payload: baseUrl: base URL "http://a.example": plain http is allowed only for loopback hosts (localhost, 127.0.0.0/8, ::1): use https`},
		{"too big", `{"key": "` + strings.Repeat("k", maxInstalledSize) + `"}`, "installed payload is cut short or larger than 1048576 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ParseInstalled(strings.NewReader(tt.in))
			if err == nil || err.Error() != tt.want {
				t.Errorf("got  %v\nwant %s", err, tt.want)
			}
		})
	}
}

func TestParseInstalledErrorsNeverHoldTheSecret(t *testing.T) {
	for _, in := range []string{
		`{"key": "k", "clientKey": "ck", "sharedSecret": "TOPSECRET", "baseUrl": "http://a.example"}`,
		`{"key": "k", "clientKey": "ck", "sharedSecret": "TOPSECRET", "baseUrl": ""}`,
		`{"key": "k", "clientKey": "ck", "sharedSecret": "TOPSECRET", "baseUrl": "https://a.example", "eventType": "uninstalled"}`,
		`{"key": "k", "clientKey": "ck", "sharedSecret": "TOPSECRET"`,
		`{"key": "k", "clientKey": "ck", "sharedSecret": "TOPSECRET", "baseUrl": 1}`,
	} {
		_, err := ParseInstalled(strings.NewReader(in))
		if err == nil || strings.Contains(err.Error(), "TOPSECRET") {
			t.Errorf("error for %s: %v", in, err)
		}
	}
}
