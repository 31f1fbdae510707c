package ingest

import (
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	ebtypes "github.com/aws/aws-sdk-go-v2/service/eventbridge/types"

	"github.com/pushline/pushline/shared/awstest"
	"github.com/pushline/pushline/shared/event"
)

// newFakeSFN is Step Functions with the state machine machine, listing
// two executions a page.
func newFakeSFN(machine string) *awstest.StepFunctions {
	f := awstest.NewStepFunctions(machine, time.Date(2026, 11, 27, 9, 0, 0, 0, time.UTC))
	f.PageSize = 2
	return f
}

// newEvents is EventBridge, checking each event's source and bus.
func newEvents(t *testing.T) *awstest.Events {
	return &awstest.Events{Check: func(e ebtypes.PutEventsRequestEntry) {
		if aws.ToString(e.Source) != event.Source || aws.ToString(e.EventBusName) != "pushline-app" {
			t.Errorf("event source %q bus %q", aws.ToString(e.Source), aws.ToString(e.EventBusName))
		}
	}}
}
