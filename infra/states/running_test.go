package states

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
	sfntypes "github.com/aws/aws-sdk-go-v2/service/sfn/types"
	"github.com/google/go-cmp/cmp"
)

// TestListRunningPages: ListExecutions(RUNNING), served from memory,
// pages newest first and leaves out the executions that ended.
func TestListRunningPages(t *testing.T) {
	h := newHarness(t, Options{}, func(e *Engine) {
		e.Register("arn:aws:states:::test:block", IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
			<-ctx.Done()
			return nil, ctx.Err()
		}))
	})
	sm := h.create("block", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:block","End":true}}}`)
	other := h.create("other", `{"StartAt":"T","States":{"T":{"Type":"Task","Resource":"arn:aws:states:::test:block","End":true}}}`)
	h.start(other, "elsewhere", `{}`)
	var arns []string
	for i := range 5 {
		arns = append(arns, h.start(sm, fmt.Sprintf("r%d", i), `{}`))
	}
	if _, err := h.sfn.StopExecution(context.Background(), &sfn.StopExecutionInput{ExecutionArn: aws.String(arns[2])}); err != nil {
		t.Fatal(err)
	}
	var got []string
	p := sfn.NewListExecutionsPaginator(h.sfn, &sfn.ListExecutionsInput{StateMachineArn: aws.String(sm), StatusFilter: sfntypes.ExecutionStatusRunning, MaxResults: 2})
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, it := range page.Executions {
			if it.Status != sfntypes.ExecutionStatusRunning {
				t.Errorf("%s listed as %s", aws.ToString(it.Name), it.Status)
			}
			got = append(got, aws.ToString(it.Name))
		}
	}
	if diff := cmp.Diff([]string{"r4", "r3", "r1", "r0"}, got); diff != "" {
		t.Errorf("names (-want +got):\n%s", diff)
	}
	if pages != 2 {
		t.Errorf("%d pages, want 2", pages)
	}
}
