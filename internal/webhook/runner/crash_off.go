//go:build !crashpoints

package runner

// crashAt is a crash point of the fault tests, built only with the crashpoints tag
// (crash_on.go); in every other build it does nothing and costs nothing.
func crashAt(string, string) {}

// crashWorkers is the number of workers; the fault tests' builds may bound it (crash_on.go).
func crashWorkers(n int) int { return n }
