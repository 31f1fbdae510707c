// Package states is pushline's local Step Functions engine: it runs
// Amazon States Language definitions (QueryLanguage JSONPath, Standard
// workflows) on one machine, speaks the AWSStepFunctions JSON protocol so
// the AWS CLI and SDKs work unchanged, and keeps state machines,
// executions, history and task tokens in SQLite so a restart resumes
// every execution.
//
// Use:
//
//	e, err := states.Open(ctx, states.Options{Path: "pushline.db"})
//	e.Register("arn:aws:states:::lambda:invoke", states.LambdaIntegration(invokeFn))
//	e.Register("arn:aws:states:::events:putEvents", states.EventsIntegration(putFn))
//	http.Handle("/", e.Handler())
//	defer e.Close()
//
// The Engine's exported methods mirror the API (CreateStateMachine,
// StartExecution, SendTaskSuccess, …) with the same request and response
// shapes as the JSON protocol (types in this package); errors are
// *APIError values (errors.Is with the Err… sentinels).
//
// Durability: one writer goroutine commits batches of history events and
// checkpoints (WAL, synchronous=FULL, group commit). Pass, Choice and the
// like are not synced one by one: a crash may replay them from the last
// checkpoint. Every acknowledged call (CreateStateMachine, StartExecution,
// StopExecution, SendTask*) returns after its commit; a Task's "running"
// checkpoint is committed before the integration is invoked and its result
// right after. On restart: Waits and retry back-offs continue with the time
// left, waitForTaskToken tasks keep waiting (their tokens stay valid), a
// task whose result was recorded continues from that result, and a task
// whose Invoke was in flight fails with States.TaskFailed and the cause
// RestartCause, so its Retry/Catch decide. Parallel and Map states restart
// whole (their branches are not checkpointed one by one), and tokens issued
// inside them become invalid on restart.
//
// Not supported: JSONata, variables (Assign), distributed Map, Activities,
// Express workflow semantics (EXPRESS machines run like STANDARD ones),
// versions and aliases.
package states
