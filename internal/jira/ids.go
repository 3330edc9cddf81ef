package jira

// WebhookIDs returns the ids of hooks, in order.
func WebhookIDs(hooks []Webhook) []int64 {
	ids := make([]int64, len(hooks))
	for i, w := range hooks {
		ids[i] = w.ID
	}
	return ids
}

// SplitIDs returns the ids that are among the registered webhooks and
// those that are not, each in the order of ids. Jira ignores unknown ids on
// delete and refresh, so a caller lists the webhooks first and says which
// ids were not registered.
func SplitIDs(ids []int64, registered []Webhook) (found, missing []int64) {
	known := make(map[int64]bool, len(registered))
	for _, w := range registered {
		known[w.ID] = true
	}
	for _, id := range ids {
		if known[id] {
			found = append(found, id)
		} else {
			missing = append(missing, id)
		}
	}
	return found, missing
}
