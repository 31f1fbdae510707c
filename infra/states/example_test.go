package states_test

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pushline/pushline/infra/states"
)

// The local stack's use: open, register integrations, create the state
// machine, start executions (the AWS endpoint serves e.Handler()).
func Example() {
	ctx := context.Background()
	e, err := states.Open(ctx, states.Options{}) // Path: "…/states.db" to keep state
	if err != nil {
		panic(err)
	}
	defer e.Close()
	e.Register("arn:aws:states:::lambda:invoke", states.LambdaIntegration(
		func(ctx context.Context, function string, payload json.RawMessage) (json.RawMessage, error) {
			return json.RawMessage(`{"greeting":"hello"}`), nil
		}))
	arn, err := e.PutStateMachine(ctx, states.CreateStateMachineInput{
		Name:    "example",
		RoleArn: "arn:aws:iam::000000000000:role/local",
		Definition: `{"StartAt":"Hello","States":{"Hello":{"Type":"Task","Resource":"arn:aws:states:::lambda:invoke",
			"Parameters":{"FunctionName":"hello","Payload.$":"$"},"ResultSelector":{"said.$":"$.Payload.greeting"},"End":true}}}`,
	})
	if err != nil {
		panic(err)
	}
	x, err := e.StartExecution(ctx, states.StartExecutionInput{StateMachineArn: arn, Name: "first", Input: `{}`})
	if err != nil {
		panic(err)
	}
	for {
		d, err := e.DescribeExecution(ctx, states.DescribeExecutionInput{ExecutionArn: x.ExecutionArn})
		if err != nil {
			panic(err)
		}
		if d.Status != "RUNNING" {
			fmt.Println(d.Status, *d.Output)
			return
		}
		time.Sleep(time.Millisecond)
	}
	// Output: SUCCEEDED {"said":"hello"}
}
