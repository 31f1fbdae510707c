// Package trigger decides whether a push starts the pipeline: which
// configured repository it belongs to, and whether that repository's
// triggers (branch and tag globs, paths and ignorePaths, skip-ci) let it
// through. When they do not, the answer says why in words a user can act
// on ("branch feature/x matches none of main, release/*").
//
// CheckRef refuses, before any trigger sees it, a ref that is not a valid
// git ref name (git check-ref-format's rules): the webhook answers such a
// push 400 (ErrInvalidRef) instead of starting a run for it.
package trigger
