// Package stack defines pushline's AWS stack: the API Gateway REST API in
// front of the webhook, approval and runs functions (the run pages), the
// Lambda functions, the Standard state machine generated from the pipeline
// config (statemachine.Generate, placeholders filled by
// DefinitionSubstitutions), one CodeBuild project per build stage and
// action (each with its own role, S3 cache prefix and test report group),
// the artifact bucket and its
// access-log bucket, the KMS key, the secrets, the approval table, the
// event bus with its failure rule (one mail per Pipeline Execution State
// Change FAILED), SNS topic and alarms, the rule on the default bus that
// sends Step Functions' ABORTED events of the machine to the watch function
// (which emits STOPPED, shared/watch), and the SES sender identity.
//
// [New] builds the stack into an app and records the cdk-nag findings it
// accepts ([Built].Suppressions, each with its reason); [Check] applies
// cdk-nag's AwsSolutions checks, so that any other finding fails the
// synthesis. The CDK app in infra/cdk calls both; its tests synthesize the
// stack once and assert on the template.
package stack
