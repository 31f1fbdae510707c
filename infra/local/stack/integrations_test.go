package stack

import (
	"encoding/json"
	"testing"

	"github.com/pushline/pushline/infra/states"
)

func TestRerunnable(t *testing.T) {
	for _, tc := range []struct {
		name, resource, fn string
		want               bool
	}{
		{"source", "arn:aws:states:::lambda:invoke", "arn:aws:lambda:us-east-1:000000000000:function:pushline-app-source", true},
		{"notify", "arn:aws:states:::lambda:invoke", "pushline-app-notify", true},
		{"queue", "arn:aws:states:::lambda:invoke", "arn:aws:lambda:us-east-1:000000000000:function:pushline-app-queue", false},
		{"plain ARN", "arn:aws:lambda:us-east-1:000000000000:function:pushline-app-source", "", true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, _ := json.Marshal(map[string]string{"FunctionName": tc.fn})
			if got := (functions{}).rerunnable(states.Task{Resource: tc.resource, Parameters: p}); got != tc.want {
				t.Errorf("rerunnable = %v, want %v", got, tc.want)
			}
		})
	}
}
