// Package watch turns Step Functions' own execution events into pushline
// events: it handles the EventBridge event "Step Functions Execution
// Status Change" (source aws.states, on the default bus) and, for an
// execution stopped by hand (status ABORTED), emits the pipeline event
// "Pipeline Execution State Change" with state STOPPED, carrying the run's
// identity (pipeline, repository, ref, commit, read from the execution's
// input with DescribeExecution) and the stop's error and cause.
//
// An execution stopped because a newer push superseded it is skipped: the
// webhook stops those with error Pushline.Superseded and a cause starting
// "superseded by", and has already emitted SUPERSEDED for them.
//
// Delivery: Step Functions sends its status events to EventBridge on a
// best-effort basis and EventBridge delivers to targets at least once, so
// the handler may see an execution's ABORTED twice. It keeps no state: a
// redelivery emits the same STOPPED event again, with the same detail and
// the same time (the execution's stop date), so consumers that must see it
// once de-duplicate on (detail.execution, detail.state). The handler
// returns an error only when nothing was emitted (DescribeExecution or
// PutEvents failed), so a retry of a failed invocation does not duplicate
// the event.
package watch
