// Package awstest holds in-memory fakes of the AWS APIs pushline's
// packages call, for their tests: Events (EventBridge PutEvents) and
// StepFunctions (the execution calls). Each satisfies the small interface
// its consumer owns.
package awstest
