// Package stack defines pushline's AWS stack: the API Gateway REST API in
// front of the webhook and approval functions, the Lambda functions, the
// Standard state machine generated from the pipeline config, one CodeBuild
// project per build stage, the artifact bucket, the secrets, the event bus
// with its failure rule and SNS topic, and the SES sender identity.
//
// [New] builds the stack into an app; [Check] applies cdk-nag's
// AwsSolutions pack with the suppressions listed in [Suppressions]. The CDK
// app in infra/cdk calls both; the tests in this package synthesize the
// stack once and assert on the template.
package stack
