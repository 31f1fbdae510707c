// Package status reports pipeline runs back to the git host as commit
// statuses: GitHub commit statuses, GitLab commit statuses, Bitbucket Cloud
// build statuses and Gitea/Forgejo commit statuses, each through the API
// its host documents (hosts.go).
//
// The Handler is fed pushline's own events (an EventBridge rule in AWS,
// functions/status; the local event bus on the local stack). Each run posts
// context pushline/<pipeline> and one context per stage,
// pushline/<pipeline>/<stage> (…/<stage>/<action> for a parallel action):
// pending when it starts (or waits for an approval), then success, failure,
// or error (stopped, superseded). Descriptions are short and fit each
// host's limit (GitHub refuses more than 140 characters); the target URL is
// the run page (Handler.RunURL).
//
// Order: events reach the handler in any order and concurrently (Lambda
// invocations, local workers), and a host shows whatever was posted last.
// Every state is first claimed in a Store, keyed by host, repository,
// commit and context, with its event time and a rank (pending 0, a final
// state implied by the run's end 1, a final state 2); a claim succeeds only
// when (time, rank) is greater than the recorded one, so a late pending
// never overwrites a final state. After posting, the poster re-reads the
// record and posts it again if a newer state was claimed meanwhile: the
// newest state is always the last one posted. In AWS the store is a
// DynamoDB table with a conditional PutItem (one write and one read per
// status; items expire after 30 days); locally a JSON file in the data dir.
//
// Every context a run posted ends final: when the run ends (SUCCEEDED,
// FAILED, SUPERSEDED, STOPPED), every context of that run still pending is
// set to error (or failure, for a failed run) at its own pending time with
// rank 1, so the stage's own final event, however late, still wins.
//
// Posting never fails or delays a run: 429 and 5xx answers and transport
// errors are retried with exponential back-off honouring Retry-After
// (Attempts, MaxWait); a status that still fails is logged with the host's
// answer (never the token) and counted (Handler.Failures, and an Embedded
// Metric Format line, metric StatusPostFailures, in namespace pushline).
package status
