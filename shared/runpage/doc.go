// Package runpage serves runs to people: the console (GET /, the runs
// newest first, filtered by branch and state), one page per run (GET
// /runs/<name>: commit, trigger, stages with their builds, logs inline
// tail first, approvals, artifacts, the failure's cause, the other
// attempts), a build's whole log page by page, and the Retry and Rerun
// buttons (CSRF-protected POSTs).
//
// Pages are server-rendered and work without JavaScript; a small script
// refreshes a running run in place.
//
// Who may see and act: on the local stack bound to loopback the handler
// is Open (everything, buttons included). Otherwise every request carries
// a signed link (HMAC with the approval key, expiring): a read-only link
// (SignedURL, what mail and commit statuses carry) shows the run and the
// other attempts of its push; an operator link (OperatorURL, issued by
// `pushline link --operator` to whoever can read the key with their IAM
// credentials) also allows Retry and Rerun, recorded as by that operator,
// and the console. A tampered link is a 403 page, an expired one 410.
package runpage
