// Command approval serves the approval pages (GET shows, POST decides):
// under Lambda behind API Gateway (REST API proxy events), otherwise on
// PUSHLINE_HTTP_ADDR. Decisions go to Step Functions (SendTaskSuccess /
// SendTaskFailure); a GET asks DescribeExecution whether the execution
// still waits.
//
// Environment:
//
//	PUSHLINE_APPROVAL_TABLE   DynamoDB table of the approval records (AWS)
//	PUSHLINE_APPROVAL_DIR     when the table is unset: a directory store,
//	                          e.g. the local stack's $PUSHLINE_DATA_DIR/approvals
//	PUSHLINE_APPROVAL_KEY     the link-signing key (or PUSHLINE_APPROVAL_KEY_ARN:
//	                          a Secrets Manager secret); locally the data dir's
//	                          approval-key file
//	PUSHLINE_EVENT_BUS        optional: emit APPROVED / REJECTED there
//	PUSHLINE_HTTP_ADDR        outside Lambda: where to serve
//	AWS_ENDPOINT_URL, …       the standard AWS SDK variables (region, credentials,
//	                          endpoints)
//
// Outside AWS, against the local stack (make local), it needs no DynamoDB:
//
//	PUSHLINE_APPROVAL_DIR=.pushline/approvals \
//	PUSHLINE_APPROVAL_KEY="$(cat .pushline/approval-key)" \
//	AWS_ENDPOINT_URL=http://127.0.0.1:4566 AWS_REGION=us-east-1 \
//	AWS_ACCESS_KEY_ID=local AWS_SECRET_ACCESS_KEY=local \
//	PUSHLINE_HTTP_ADDR=127.0.0.1:8081 go run ./functions/approval
//
// (The directory store locks across processes, so it can share the
// directory with the running stack.)
package main
