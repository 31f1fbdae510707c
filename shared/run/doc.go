// Package run reads a pipeline run (one Step Functions execution) into a
// model a person can follow: its commit, what started it, each stage and
// parallel action with state, start, duration and build, approvals, the
// artifacts, the failure's cause in words and the other attempts of the
// same push. It also starts runs: a rerun (the whole pipeline again), a
// retry (from the failed stage, reusing the earlier stages' data) and a
// manual run of a branch.
//
// It reads Step Functions history (GetExecutionHistory), CodeBuild
// (BatchGetBuilds) and build logs (CloudWatch Logs GetLogEvents) through
// small interfaces the AWS SDK v2 clients satisfy, so the same code works
// against AWS and the local stack. FileLogs serves GetLogEvents from log
// files, as the local stack keeps them.
package run
