// Package statemachine generates the one Step Functions definition of a
// pipeline from its config (Amazon States Language, JSONPath, Standard
// workflow), executed both by AWS and by the local engine (infra/states).
//
// Generate returns the definition with ${Key} placeholders for everything
// environment-specific (Keys lists them, ProjectKey names a build stage's
// CodeBuild project key); CloudFormation's DefinitionSubstitutions or
// Substitute fill them. docs/state-machine.md describes the flow, the data
// each state carries and the cost of a run.
package statemachine
