// Package approval implements manual approval stages: the notify handler
// the state machine invokes with lambda:invoke.waitForTaskToken (it stores
// an approval Record and mails each approver a signed link of their own),
// the records' Stores (memory, a directory on disk, DynamoDB), the signed
// links, and the net/http handler that shows the approval page (GET) and
// records a decision (POST) by calling SendTaskSuccess / SendTaskFailure.
//
// Guarantees:
//   - GET never decides (mail link scanners prefetch links). It asks Step
//     Functions whether the execution still runs (DescribeExecution): if
//     it has ended (stopped, superseded, failed, …) the page answers 410
//     and the record becomes EXPIRED — the only write a GET makes. If
//     Step Functions cannot say (an outage, ExecutionDoesNotExist), the
//     page shows as usual and the POST decides.
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
// ClaimLease. Claiming first is what makes racing POSTs safe: only the
// conditional write's winner ever calls Step Functions.
//
// CSRF: the link itself is the capability (nobody can post to it without
// its signature), and the form adds three checks: a hidden token that is
// an HMAC of the link under another label (so a POST must come from a
// rendered page, not from a tool posting to the mailed URL), the
// browser's Sec-Fetch-Site (same-origin or none only) and Origin (the
// request's host, or absent/"null") where present. No cookie is needed,
// so the page works in any mail client's browser. Pages send
// Referrer-Policy: no-referrer (the signed URL never leaks to the logs
// links), Cache-Control: no-store and a CSP without scripts.
//
// Statuses: 403 forged/tampered link, form token or cross-site post; 404
// unknown approval; 409 already decided (the page says by whom, when,
// with what comment) or being decided; 410 expired link or a task Step
// Functions no longer waits for; 400/405/413/415 malformed posts; 503 a
// store or Step Functions outage (nothing decided). Never another 5xx.
//
// Wiring (local stack): NewDirStore(<data dir>/approvals), a Signer from
// the approval key, mail.Outbox or mail.SMTP; Notifier.Handle as the
// notify Lambda's handler, Handler mounted at /approvals/. In AWS
// (functions/notify, functions/approval): DynamoStore, SES, *sfn.Client.
package approval
