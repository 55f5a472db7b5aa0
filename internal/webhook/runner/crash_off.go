//go:build !crashpoints

package runner

// crashAt is a crash point of the fault tests, built only with the crashpoints tag
// (crash_on.go); in every other build it does nothing and costs nothing.
func crashAt(string, string) {}
