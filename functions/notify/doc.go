// Command notify is the approval notify function, invoked by the state
// machine with lambda:invoke.waitForTaskToken (input: approval.Request):
// it stores the approval record, mails each approver a signed link (SES
// v2, or SMTP when PUSHLINE_SMTP_ADDR is set) and emits Approval State
// Change REQUESTED. When no approver could be mailed it fails with
// errorType "MailError" (approval.MailError), which the Approve task
// retries; the retry finds the stored record and mails again.
//
// Environment:
//
//	PUSHLINE_APPROVAL_TABLE   DynamoDB table of the approval records (AWS)
//	PUSHLINE_APPROVAL_DIR     when the table is unset: a directory store
//	                          (e.g. the local stack's $PUSHLINE_DATA_DIR/approvals)
//	PUSHLINE_APPROVAL_URL     the approval pages' base URL (links)
//	PUSHLINE_MAIL_FROM        the sender address
//	PUSHLINE_APPROVAL_KEY     the link-signing key (or PUSHLINE_APPROVAL_KEY_ARN)
//	PUSHLINE_SMTP_ADDR        optional: mail over SMTP instead of SES
//	PUSHLINE_EVENT_BUS        optional: emit REQUESTED there
//
// It runs only under a Lambda runtime (AWS, or an emulator such as the
// Lambda runtime interface emulator); the local stack calls
// approval.Notifier in process instead.
package main
