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
// *APIError values (errors.Is with the Err… sentinels). PutStateMachine
// creates or updates a state machine in one call.
//
// Benchmarks: go test -run XXX -bench . ./infra/states (transitions/s of
// a Pass/Choice loop through the API with durability on, the latency from
// SendTaskSuccess to the next state, executions after 1,000 finished ones).
//
// Durability: one writer goroutine commits batches of history events and
// checkpoints (WAL, synchronous=FULL, group commit). Pass, Choice and the
// like are not synced one by one: a crash may replay them from the last
// checkpoint. Every acknowledged call (CreateStateMachine, StartExecution,
// StopExecution, SendTask*) returns after its commit; a Task's "running"
// checkpoint is committed before the integration is invoked and its result
// right after. Executions that were running resume when the engine is
// first used after Open (Handler, any API method, or Resume), so the
// integrations registered right after Open serve them. On restart:
//   - Waits and retry back-offs continue with the time left;
//   - a task whose result was recorded continues from that result; so does
//     one whose Invoke returned as Close began (within the 5 s Close gives
//     Invokes in flight): a success, or a failure returned before its
//     context was cancelled, is recorded, not lost (a step a graceful stop
//     let finish keeps its outcome); an execution whose last state ended
//     then ends;
//   - a task whose Invoke was in flight runs again if its integration is
//     Rerunnable (RerunWhen: running it twice does what running it once
//     does), without new Scheduled/Started events and, for
//     waitForTaskToken, with the same token; any other fails with
//     States.TaskFailed and the cause RestartCause, so its Retry/Catch
//     decide;
//   - a task whose Invoke returned ErrNotStarted (it did not start, e.g.
//     the service was draining), or that Close came before invoking, is
//     invoked again, not failed; see "Tasks not started" below;
//   - a waitForTaskToken task whose request was delivered (Invoke returned)
//     keeps waiting and its token stays valid; one still being delivered
//     is an in-flight task (run again or failed);
//   - Parallel branches and Map iterations are checkpointed the same way,
//     each under its own key (a finished one keeps its result); the state
//     is not entered or started again (no second ParallelStateEntered).
//
// Tasks not started: an Integration's Invoke that returns an error
// wrapping ErrNotStarted promises that nothing happened. The engine records
// no failure and uses no retry attempt: the task is parked (its checkpoint
// says so, committed before Close returns) and invoked again after a
// second while the engine runs, or after the next Open if the engine is
// closing (Close gives Invokes in flight 5 s to return once their context
// is cancelled; one returning later counts as in flight: RestartCause). The
// history keeps the attempt's TaskScheduled and TaskStarted (or
// LambdaFunction*) events and adds nothing when the task is invoked again,
// so it reads as one attempt that was scheduled once, started once and
// ended once, as on AWS; $$.State.RetryCount does not change; the task's
// TimeoutSeconds and HeartbeatSeconds count from the invocation that
// really started; the execution's TimeoutSeconds keeps running. A
// waitForTaskToken task gets a new token after a restart (nobody received
// the old one). Invokes that keep answering ErrNotStarted are invoked
// every second until the execution stops or the engine closes.
//
// Limits as on AWS: 256 KiB inputs, outputs and task results
// (States.DataLimitExceeded), 25,000 history events per execution
// (Options.MaxHistoryEvents; the execution fails with States.Runtime),
// names of 1 to 80 characters without whitespace, brackets, wildcards or
// the characters AWS forbids.
//
// History: the event types and *EventDetails fields of
// GetExecutionHistory, ids and previousEventId chained per branch. Plain
// Lambda function ARNs as Resource record LambdaFunction* events; other
// resources Task* events; TaskSubmitted when the integration calls
// Task.Submitted.
//
// Not supported: JSONata, variables (Assign), distributed Map, Activities,
// Express workflow semantics (EXPRESS machines run like STANDARD ones),
// versions and aliases.
package states
