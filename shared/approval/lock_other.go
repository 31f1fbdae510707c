//go:build !unix

package approval

// lockFile is a no-op where flock is missing: DirStore then serialises
// decisions within one process only.
func lockFile(string) (func(), error) { return func() {}, nil }
