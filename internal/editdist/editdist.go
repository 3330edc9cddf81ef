// Package editdist measures how far apart two short strings are, for the
// "did you mean" suggestions of jwh's checks (misspelt JQL fields and
// webhook event names).
package editdist

// maxLen bounds the strings Distance compares: longer ones are too long to
// be a typo of a name.
const maxLen = 64

// Distance is the optimal string alignment distance between a and b in
// bytes: insertions, deletions, substitutions and transpositions of
// adjacent bytes each count one. It does not allocate. Strings longer than
// 64 bytes are not compared: the distance is then the longer length.
func Distance(a, b string) int {
	if len(a) > maxLen || len(b) > maxLen {
		return max(len(a), len(b))
	}
	var rows [3][maxLen + 1]int
	prev2, prev, cur := &rows[0], &rows[1], &rows[2]
	for j := 0; j <= len(b); j++ {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				cur[j] = min(cur[j], prev2[j-2]+1)
			}
		}
		prev2, prev, cur = prev, cur, prev2
	}
	return prev[len(b)]
}
