// Package jql owns the JQL language as far as jwh needs it: it lexes and
// parses a filter, checks it against the small subset that Jira Cloud
// accepts in a dynamic webhook's jqlFilter, prints it back in canonical
// form, and evaluates a valid filter against an issue. It holds the one
// definition of that subset; what else a webhook registration may contain
// (events, the callback URL, the body's shape, limits) is package
// webhookspec's.
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
// A syntax error stops parsing, so Validate then returns exactly one error;
// subset violations are all reported, in source order. Offsets are bytes;
// Line and Column are 1-based and Column counts runes.
//
// The syntax tree (Expr, Operand and their node types) covers all of JQL,
// so that a filter outside the subset can be refused with a reason rather
// than a syntax error. It prints back as canonical JQL with String, and
// parsing that text gives the same tree.
package jql
