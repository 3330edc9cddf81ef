package jql

import (
	"strconv"
	"strings"
	"testing"
)

// benchFilter is a realistic webhook filter.
const benchFilter = `project in (PRJ, OPS) AND issuetype = Bug AND status != Done AND assignee in (5b10ac8d82e05b22cc7d4ef5)`

// BenchmarkValidate measures the whole check of one filter: lexing,
// parsing and the subset rules. docs/jql-subset.md reports the figures:
//
//	go test -run '^$' -bench Validate -cpu 1 ./internal/jql
func BenchmarkValidate(b *testing.B) {
	benchValidate(b, benchFilter)
}

// BenchmarkValidateLong checks a long filter: an IN list of 100 issue keys
// and a property clause, on several lines.
func BenchmarkValidateLong(b *testing.B) {
	keys := make([]string, 100)
	for i := range keys {
		keys[i] = "PRJ-" + strconv.Itoa(i+1)
	}
	benchValidate(b, "project = PRJ\nAND issueKey in ("+strings.Join(keys, ", ")+")\n"+
		`AND (status = "In Progress" OR issue.property[support].team.name = "Dev Ops")`)
}

func benchValidate(b *testing.B, src string) {
	b.ReportAllocs()
	b.SetBytes(int64(len(src)))
	for b.Loop() {
		if _, list := Validate(src); list != nil {
			b.Fatal(list)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "filters/s")
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
