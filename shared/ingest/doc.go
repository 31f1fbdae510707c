// Package ingest is the POST /webhook handler: it verifies and parses a
// provider delivery (package webhook), matches each push against the
// config's triggers (package trigger) and starts one Step Functions
// execution per matching push, under a deterministic name so that a
// redelivery, or the same push sent by a second hook, is a duplicate and
// starts nothing.
//
// In superseded mode it then stops the older running executions of the
// same repository and ref and emits a SUPERSEDED event for each. In queued
// mode the state machine's gate (the Queue handler, functions/queue) makes
// a newer execution wait for the older ones.
//
// A push whose ref is not a valid git ref name (trigger.CheckRef) makes the
// whole delivery a 400.
//
// Every outcome maps to one status in one place (status): 202 started,
// 200 duplicate or ignored, 400/401/405/413/415 for a client's mistakes,
// 503 when Step Functions is unavailable.
package ingest
