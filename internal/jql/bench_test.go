package jql

import "testing"

// benchFilter is a realistic webhook filter.
const benchFilter = `project in (PRJ, OPS) AND issuetype = Bug AND status != Done AND assignee in (5b10ac8d82e05b22cc7d4ef5)`

// BenchmarkValidate measures the whole check of one filter: lexing,
// parsing and the subset rules. docs/jql-subset.md reports the figures.
func BenchmarkValidate(b *testing.B) {
	b.ReportAllocs()
	b.SetBytes(int64(len(benchFilter)))
	for b.Loop() {
		if _, list := Validate(benchFilter); list != nil {
			b.Fatal(list)
		}
	}
}

// BenchmarkMatch measures matching a valid filter against an issue, what
// the sandbox does for every webhook on every event.
func BenchmarkMatch(b *testing.B) {
	q, list := Validate(benchFilter)
	if list != nil {
		b.Fatal(list)
	}
	b.ReportAllocs()
	for b.Loop() {
		if !q.Match(bug) {
			b.Fatal("no match")
		}
	}
}
