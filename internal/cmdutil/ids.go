package cmdutil

import "strconv"

// ParseIDs reads webhook ids from arguments, each one id or a comma list,
// and returns them in order without duplicates. An id is a positive
// number, as jwh list shows it; anything else is a usage error.
func ParseIDs(args []string) ([]int64, error) {
	var ids []int64
	seen := make(map[int64]bool)
	for _, s := range SplitList(args) {
		id, err := strconv.ParseInt(s, 10, 64)
		if err != nil || id <= 0 {
			return nil, UsageErrorf("invalid webhook id %q: ids are positive numbers, as 'jwh list' shows them", s)
		}
		if !seen[id] {
			seen[id] = true
			ids = append(ids, id)
		}
	}
	return ids, nil
}
