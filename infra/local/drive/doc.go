// Package drive does to a running pushline what its users do: push commits
// to a git repository, deliver the provider's signed webhook, find the
// approval link in the mail and decide through the page (GET, then POST).
// The demo and the end-to-end tests use it.
package drive
