package jql

import (
	"bytes"
	"encoding/json"
	"errors"
	"strconv"
	"strings"
)

// IssueFromJSON reads what a filter can see of an issue from the issue as
// Jira's REST API and its webhook deliveries show it (a delivery's
// "issue"): {"id", "key", "fields": {"project", "issuetype", "status",
// "assignee", "reporter", "customfield_ID", ...}}. Fields that are absent
// or of another type are left empty. Deliveries do not carry issue
// properties, so Properties stays empty and issue.property filters match
// no issue read this way.
//
// A custom field's value is read with FieldValue.
func IssueFromJSON(data []byte) (Issue, error) {
	var raw struct {
		ID     json.RawMessage            `json:"id"`
		Key    string                     `json:"key"`
		Fields map[string]json.RawMessage `json:"fields"`
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&raw); err != nil {
		var typeErr *json.UnmarshalTypeError
		if !errors.As(err, &typeErr) {
			return Issue{}, err
		}
	}
	is := Issue{ID: scalar(raw.ID), Key: raw.Key}
	object := func(name string) map[string]any {
		var m map[string]any
		if v, ok := raw.Fields[name]; ok {
			d := json.NewDecoder(bytes.NewReader(v))
			d.UseNumber()
			if d.Decode(&m) != nil {
				return nil
			}
		}
		return m
	}
	if p := object("project"); p != nil {
		is.ProjectID, is.ProjectKey, is.ProjectName = Text(p["id"]), Text(p["key"]), Text(p["name"])
	}
	if t := object("issuetype"); t != nil {
		is.IssueTypeID, is.IssueTypeName = Text(t["id"]), Text(t["name"])
	}
	if s := object("status"); s != nil {
		is.StatusID, is.StatusName = Text(s["id"]), Text(s["name"])
	}
	if a := object("assignee"); a != nil {
		is.AssigneeAccountID = Text(a["accountId"])
	}
	if r := object("reporter"); r != nil {
		is.ReporterAccountID = Text(r["accountId"])
	}
	for name, v := range raw.Fields {
		id, ok := strings.CutPrefix(name, "customfield_")
		if !ok || id == "" {
			continue
		}
		var value any
		d := json.NewDecoder(bytes.NewReader(v))
		d.UseNumber()
		if d.Decode(&value) != nil {
			continue
		}
		if s := FieldValue(value); s != "" {
			if is.CustomFields == nil {
				is.CustomFields = map[string]string{}
			}
			is.CustomFields[id] = s
		}
	}
	return is, nil
}

// scalar returns a JSON string's or number's text.
func scalar(raw json.RawMessage) string {
	var v any
	d := json.NewDecoder(bytes.NewReader(raw))
	d.UseNumber()
	if len(raw) == 0 || d.Decode(&v) != nil {
		return ""
	}
	return Text(v)
}

// Text returns a decoded JSON string or number as text, else "". It takes
// numbers as encoding/json decodes them, with UseNumber or without, and as
// Go code writes them (int, int64). It is how an issue's fields are read,
// here and by the sandbox that builds the issues it delivers.
func Text(v any) string {
	switch t := v.(type) {
	case string:
		return t
	case json.Number:
		return t.String()
	case float64:
		return strconv.FormatFloat(t, 'f', -1, 64)
	case int:
		return strconv.Itoa(t)
	case int64:
		return strconv.FormatInt(t, 10)
	}
	return ""
}

// FieldValue is the text that a filter compares of a custom field's
// value, decoded from JSON into an any: a string or number as it is, a
// boolean as true or false, an object by its "value", "key", "name",
// "displayName", "accountId" or "id" (the first present), an array by its
// first element. Anything else is "". The sandbox builds what its filters
// see of an issue, and its changelogs, with it, so that a filter sees a
// delivered issue as IssueFromJSON reads it back.
func FieldValue(v any) string {
	switch t := v.(type) {
	case bool:
		return strconv.FormatBool(t)
	case map[string]any:
		for _, k := range []string{"value", "key", "name", "displayName", "accountId", "id"} {
			if s := Text(t[k]); s != "" {
				return s
			}
		}
		return ""
	case []any:
		if len(t) > 0 {
			return FieldValue(t[0])
		}
		return ""
	}
	return Text(v)
}
