// Package jql parses JQL, checks it against the small subset that Jira Cloud
// accepts in a dynamic webhook's jqlFilter, and evaluates a valid filter
// against an issue. It owns the one definition of that subset: jwh validate,
// jwh register and the sandbox all call it.
//
// The subset: the fields issueKey, project, issuetype, status, assignee,
// reporter, issue.property[KEY] with an optional .path.to.value, and cf[ID]
// with a numeric id; the aliases key and issue (for issueKey) and type (for
// issuetype); the operators =, !=, IN (...) and NOT IN (...); clauses joined
// by AND and OR, with parentheses. Everything else that JQL can say is
// refused with its position and a reason: other fields and operators,
// functions, EMPTY and NULL, a NOT before a clause, ORDER BY, and an empty
// filter. docs/jql-subset.md has the grammar and examples.
//
// The API:
//
//	func Parse(src string) (Expr, error)             // syntax only; the error is an *Error
//	func Validate(src string) (*Query, ErrorList)    // syntax and subset
//
//	func (q *Query) Canonical() string               // canonical JQL, aliases resolved
//	func (q *Query) Aliases() map[string]string      // alias -> field, e.g. "key" -> "issueKey"
//	func (q *Query) Match(is Issue) bool             // does the filter select the issue?
//	func (q *Query) Source() string
//	func (q *Query) Expr() Expr
//
//	type Error struct{ Msg string; Offset, End, Line, Column int }
//	func (e *Error) Error() string                   // "1:19: unsupported field ..."
//	func (e *Error) Snippet(src string) string       // the source line and a caret line
//	type ErrorList []*Error
//	func (l ErrorList) Error() string                // one error per line
//	func (l ErrorList) Render(src string) string     // each error with its snippet
//	func (l ErrorList) Err() error                   // nil when empty
//
// What jwh validate and jwh register both run, so that they print the
// same messages:
//
//	func CheckWebhook(filter string, events []string) *WebhookCheck
//	func (c *WebhookCheck) Valid() bool
//	func (c *WebhookCheck) Render(prefix string) string // the problems, with carets
//	func CheckBody(data []byte) (*BodyCheck, error)     // a register request body
//	func (bc *BodyCheck) Render() string
//	func CheckURL(url string) error                    // the callback URL
//
// Syntax errors stop parsing: Validate then returns exactly one error.
// Subset violations are all reported, in source order. Offsets are bytes;
// Line and Column are 1-based and Column counts runes.
//
// The syntax tree (Expr, Operand and their node types) prints back as
// canonical JQL with String, and parsing that text gives the same tree.
package jql
