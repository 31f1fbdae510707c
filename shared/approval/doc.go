// Package approval implements manual approval stages: the notify handler
// the state machine invokes with lambda:invoke.waitForTaskToken (it stores
// an approval Record and mails each approver a signed link of their own),
// the records' Stores (memory, a directory on disk, DynamoDB), the signed
// links, and the net/http handler that shows the approval page (GET) and
// records a decision (POST) by calling SendTaskSuccess / SendTaskFailure.
//
// Guarantees:
//   - GET never changes anything (mail link scanners prefetch links).
//   - The task token is stored in the record only; it never appears in a
//     URL, a page, a mail or a log line (Request and Record implement
//     slog.LogValuer without it).
//   - A link is signed (HMAC-SHA256 over approval id, approver, expiry),
//     expires with the approval's timeout and decides at most once: the
//     record is claimed with a conditional write before Step Functions is
//     called, so racing POSTs produce exactly one decision.
//
// Decision order (POST): claim (PENDING → DECIDING, conditional), then
// SendTaskSuccess / SendTaskFailure, then DECIDING → APPROVED / REJECTED.
// If Step Functions says the task is gone (TaskTimedOut, TaskDoesNotExist,
// InvalidToken) the record becomes EXPIRED and the page answers 410; on
// any other Step Functions error (an outage) the claim is rolled back to
// PENDING and the page answers 503, so the approver can try again. A claim
// left behind by a crash between the two writes is taken over after
// ClaimLease.
package approval
