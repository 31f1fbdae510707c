// Package ingest is the POST /webhook handler: it verifies and parses a
// provider delivery (package webhook), matches each push against the
// config's triggers (package trigger) and starts one Step Functions
// execution per matching push, under a deterministic name so that a
// redelivery, or the same push sent by a second hook, is a duplicate and
// starts nothing.
//
// Each execution's input carries a random Request id of its own (see
// push.Input): Step Functions takes a StartExecution with an existing name
// and the same input as the same call (an SDK retry) and any other as
// ExecutionAlreadyExists, so a second delivery of a push — even with the
// same delivery id, even concurrent — answers 200 duplicate, exactly one
// request answers 202 started, and no clock is consulted.
//
// In superseded mode it then stops the older running executions of the
// same repository and ref and emits a SUPERSEDED event for each. "Older"
// is by the ref's history first (a push whose before is another's after
// is newer), then the head commits' timestamps, then arrival (see order):
// a push delivered late that is older than a running execution is not
// started (200 ignored, "superseded by newer execution <arn>"), and if it
// raced past that check it stops itself, superseded by the newer one. In queued
// mode the state machine's gate (the Queue handler, functions/queue) makes
// a newer execution wait for the older ones.
//
// Pull requests (pullrequest.go): a repository runs them only with
// pullRequests in the config (trigger.MatchPullRequest: target branch
// globs, forks only with forks: true). A run is named
// pr<number>-<commit>-<refkey> (its ref is the pull request's head ref, so
// runs of one pull request share the refkey), its input carries
// run.trigger "pull_request" and skip (the stages the pull request leaves
// out: those not in pullRequests.stages, by default every stage from the
// first approval on). A newer commit on the pull request supersedes the
// older run in every mode; a closing or merging delivery stops the pull
// request's running executions (error Pushline.PullRequestClosed; the
// watch function emits STOPPED). A fork's run is refused when a stage it
// would run reads secrets, or when Options.ForksRefused says fork builds
// cannot run safely here (the local stack without its build sandbox).
//
// A push whose ref is not a valid git ref name (trigger.CheckRef) makes the
// whole delivery a 400.
//
// Every outcome maps to one status in one place (status): 202 started,
// 200 duplicate or ignored, 400/401/405/413/415 for a client's mistakes,
// 503 when Step Functions is unavailable.
package ingest
