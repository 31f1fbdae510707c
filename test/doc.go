// Package test holds pushline's end-to-end tests. Each starts the local
// stack as a real process (the binary make local runs) on free loopback
// ports with its own data dir, and drives it as a user would: signed
// webhooks over HTTP, the AWS SDK for Go against its AWS endpoint, approval
// links read from the outbox and decided through the page.
package test
