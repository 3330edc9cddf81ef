package sandbox

import (
	"crypto/sha256"
	"encoding/hex"
	"maps"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/jwh-cli/jwh/internal/events"
	"github.com/jwh-cli/jwh/internal/jql"
)

// Event is something that happened on a tenant, to be delivered to the
// app's webhooks: what jwh trigger sends to the sandbox's trigger
// endpoint, and what Tenant.Trigger takes.
type Event struct {
	// Name is the webhookEvent, such as "jira:issue_updated"; one of
	// events.Known.
	Name string `json:"event"`
	// Issue is the issue the event is about (issue, comment and issue
	// property events); see Issue for its defaults.
	Issue Issue `json:"issue"`
	// ChangedFields are the ids of the fields a jira:issue_updated
	// changed ("status", "summary", "customfield_10029"). They decide the
	// webhooks with a fieldIdsFilter, and make the changelog, each item
	// showing the field's new value.
	ChangedFields []string `json:"changedFields,omitempty"`
	// Changelog, when set, is the changelog's items as given, instead of
	// the ones made from ChangedFields; their fieldId (else field) is
	// what fieldIdsFilter looks at.
	Changelog []ChangeItem `json:"changelog,omitempty"`
	// Comment is the comment of a comment event; defaults are filled in.
	Comment *Comment `json:"comment,omitempty"`
	// Property is the issue property of an issue_property_* event; its
	// key decides the webhooks with an issuePropertyKeysFilter. Default:
	// the key "sandbox" with the value true.
	Property *Property `json:"property,omitempty"`
	// User is who did it; default: a sandbox user of the tenant.
	User *User `json:"user,omitempty"`
	// Sprint and Version are merged over the default sprint or version of
	// sprint_* and jira:version_* events.
	Sprint  map[string]any `json:"sprint,omitempty"`
	Version map[string]any `json:"version,omitempty"`
}

// ChangeItem is one item of a jira:issue_updated changelog.
type ChangeItem struct {
	Field      string  `json:"field"`
	FieldType  string  `json:"fieldtype"`
	FieldID    string  `json:"fieldId,omitempty"`
	From       *string `json:"from"`
	FromString *string `json:"fromString"`
	To         *string `json:"to"`
	ToString   *string `json:"toString"`
}

// Comment is the comment of a comment event.
type Comment struct {
	ID     string `json:"id,omitempty"`
	Body   string `json:"body,omitempty"`
	Author *User  `json:"author,omitempty"`
}

// Property is an issue property.
type Property struct {
	Key   string `json:"key"`
	Value any    `json:"value,omitempty"`
}

// changedIDs returns the ids of the fields the event changed.
func (ev *Event) changedIDs() []string {
	if len(ev.Changelog) > 0 {
		var ids []string
		for _, c := range ev.Changelog {
			if c.FieldID != "" {
				ids = append(ids, c.FieldID)
			} else if c.Field != "" {
				ids = append(ids, c.Field)
			}
		}
		return ids
	}
	return ev.ChangedFields
}

// eventTypeNames are the issue_event_type_name of the events that have one.
var eventTypeNames = map[string]string{
	"jira:issue_created": "issue_created",
	"jira:issue_updated": "issue_updated",
	"jira:issue_deleted": "issue_deleted",
	"comment_created":    "issue_commented",
	"comment_updated":    "issue_comment_edited",
	"comment_deleted":    "issue_comment_deleted",
}

// fieldNames are the changelog "field" of Jira's system fields whose name
// differs from their id.
var fieldNames = map[string]string{"issuetype": "issuetype", "duedate": "duedate", "fixVersions": "Fix Version", "customfield_10014": "Epic Link"}

// payload is a delivery's body, in the order Jira writes it.
type payload struct {
	Timestamp          int64          `json:"timestamp"`
	WebhookEvent       string         `json:"webhookEvent"`
	IssueEventTypeName string         `json:"issue_event_type_name,omitempty"`
	User               map[string]any `json:"user,omitempty"`
	Issue              *issuePayload  `json:"issue,omitempty"`
	Changelog          *changelog     `json:"changelog,omitempty"`
	Comment            map[string]any `json:"comment,omitempty"`
	Property           *Property      `json:"property,omitempty"`
	Sprint             map[string]any `json:"sprint,omitempty"`
	Version            map[string]any `json:"version,omitempty"`
	MatchedWebhookIDs  []int64        `json:"matchedWebhookIds"`
}

type changelog struct {
	ID    string       `json:"id"`
	Items []ChangeItem `json:"items"`
}

// prepared is an event with its defaults filled in, ready to match and to
// deliver.
type prepared struct {
	ev      Event
	issue   *builtIssue // nil for sprint and version events
	changed []string
	body    payload // without matchedWebhookIds
}

// prepare fills in the event's defaults for tenant t.
func (t *Tenant) prepare(ev Event, now time.Time, seq int64) *prepared {
	site := t.siteURL()
	actor := t.actor(ev.User, site)
	p := &prepared{ev: ev, body: payload{Timestamp: now.UnixMilli(), WebhookEvent: ev.Name, User: actor}}
	stamp := now.Format(jiraTimeLayout)
	switch {
	case events.IsIssueEvent(ev.Name):
		is := buildIssue(ev.Issue, site, actor, now)
		p.issue = &is
		p.body.Issue = is.payload
		p.body.IssueEventTypeName = eventTypeNames[ev.Name]
	case strings.HasPrefix(ev.Name, "sprint_"):
		state := map[string]string{"sprint_started": "active", "sprint_closed": "closed"}[ev.Name]
		if state == "" {
			state = "future"
		}
		sprint := map[string]any{
			"id": 1, "self": site + "/rest/agile/1.0/sprint/1", "state": state, "name": "Sandbox Sprint 1",
			"startDate": now.UTC().Format("2006-01-02T15:04:05.000Z"), "endDate": now.Add(14 * 24 * time.Hour).UTC().Format("2006-01-02T15:04:05.000Z"),
			"originBoardId": 1, "goal": "",
		}
		maps.Copy(sprint, ev.Sprint)
		p.body.Sprint = sprint
	default: // jira:version_*
		version := map[string]any{
			"self": site + "/rest/api/2/version/10000", "id": "10000", "name": "1.0", "description": "",
			"archived": false, "released": ev.Name == "jira:version_released", "projectId": 10000,
		}
		if ev.Name == "jira:version_released" {
			version["releaseDate"] = now.Format("2006-01-02")
		}
		maps.Copy(version, ev.Version)
		p.body.Version = version
	}

	switch ev.Name {
	case "jira:issue_updated":
		p.changed = ev.changedIDs()
		items := ev.Changelog
		if len(items) == 0 {
			for _, id := range ev.ChangedFields {
				items = append(items, changeItem(id, p.issue.fields))
			}
		}
		if items == nil {
			items = []ChangeItem{}
		}
		p.body.Changelog = &changelog{ID: strconv.FormatInt(10000+seq, 10), Items: items}
		if slices.Contains(p.changed, "status") {
			p.body.IssueEventTypeName = "issue_generic"
		} else if len(p.changed) == 1 && p.changed[0] == "assignee" {
			p.body.IssueEventTypeName = "issue_assigned"
		}
	case "comment_created", "comment_updated", "comment_deleted":
		c := Comment{}
		if ev.Comment != nil {
			c = *ev.Comment
		}
		if c.ID == "" {
			c.ID = strconv.FormatInt(10000+seq, 10)
		}
		if c.Body == "" {
			c.Body = "A comment from the jwh sandbox."
		}
		author := actor
		if c.Author != nil {
			author = userObject(map[string]any{"accountId": c.Author.AccountID, "displayName": c.Author.DisplayName}, site)
		}
		p.body.Comment = map[string]any{
			"self": site + "/rest/api/2/issue/" + p.issue.match.ID + "/comment/" + c.ID,
			"id":   c.ID, "author": author, "body": c.Body, "updateAuthor": author,
			"created": stamp, "updated": stamp, "jsdPublic": true,
		}
	case "issue_property_set", "issue_property_deleted":
		prop := Property{Key: "sandbox", Value: true}
		if ev.Property != nil {
			prop = *ev.Property
		}
		if ev.Name == "issue_property_deleted" {
			prop.Value = nil
		}
		p.body.Property = &prop
	}
	return p
}

// changeItem is the changelog item for a change of the field id to its
// current value in fields.
func changeItem(id string, fields map[string]any) ChangeItem {
	name := id
	if n, ok := fieldNames[id]; ok {
		name = n
	}
	kind := "jira"
	if strings.HasPrefix(id, "customfield_") {
		kind = "custom"
	}
	item := ChangeItem{Field: name, FieldType: kind, FieldID: id}
	v := fields[id]
	switch t := v.(type) {
	case nil:
	case map[string]any:
		to, toString := jql.Text(t["id"]), jql.FieldValue(t)
		if acc := jql.Text(t["accountId"]); acc != "" {
			to, toString = acc, jql.Text(t["displayName"])
		}
		if to != "" {
			item.To = &to
		}
		item.ToString = &toString
	default:
		s := jql.FieldValue(v)
		item.ToString = &s
	}
	return item
}

// siteURL is the tenant's base URL for the self links of payloads: the
// URL it is served at, or a placeholder while the server is not listening.
func (t *Tenant) siteURL() string {
	if u := t.BaseURL(); u != "" {
		return u
	}
	return "http://sandbox.invalid" + t.basePath
}

// actor returns the user who triggers an event: u completed, or the
// tenant's sandbox user, whose account id is stable across restarts.
func (t *Tenant) actor(u *User, site string) map[string]any {
	if u != nil && u.AccountID != "" {
		return userObject(map[string]any{"accountId": u.AccountID, "displayName": u.DisplayName}, site)
	}
	sum := sha256.Sum256([]byte("user\x00" + t.clientKey))
	h := hex.EncodeToString(sum[:16])
	id := "557058:" + h[0:8] + "-" + h[8:12] + "-" + h[12:16] + "-" + h[16:20] + "-" + h[20:32]
	return userObject(map[string]any{"accountId": id, "displayName": "Sandbox User"}, site)
}
