// Package stack assembles the local stack: one process with everything the
// AWS stack has — the webhook and approval endpoints, the Step Functions
// engine executing the generated definition, a CodeBuild runner, S3 for
// artifacts, an event bus and mail — keeping all it has in one data folder.
//
// The functions run in process through the very handlers the Lambdas use,
// with AWS SDK clients pointed at the stack's own AWS endpoint, so the local
// run exercises the same code as AWS.
package stack
