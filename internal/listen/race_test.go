//go:build race

package listen

// raceEnabled reports whether the tests run under the race detector,
// which makes allocation counts meaningless.
const raceEnabled = true
