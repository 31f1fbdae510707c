package states

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strings"
	"time"

	"github.com/google/uuid"
	"github.com/pushline/pushline/infra/states/jsonvalue"
)

// Integration serves one Task resource. Invoke receives the task's
// parameters (after Parameters processing) and returns its raw result.
//
// Pattern "" (request-response) and "sync": Invoke returns the result when
// the work is done (for "sync", when the job ends). Pattern
// "waitForTaskToken": Invoke delivers the request (Task.Token is set) and
// returns; the task ends when SendTaskSuccess/SendTaskFailure arrives with
// the token, and Invoke's result is ignored unless it is an error, which
// fails the task.
//
// Invoke must return promptly when ctx is cancelled (a timeout, a stopped
// execution, or the engine closing). A *TaskError chooses the error name
// Retry and Catch see; any other error becomes States.TaskFailed with the
// error text as cause, except ErrNotStarted (wrapped or not), which says
// the task did not start and had no side effect: the engine invokes it
// again later (see ErrNotStarted). When the engine closes, it waits a few
// seconds for Invokes in flight to return, so one may still answer
// ErrNotStarted then.
type Integration interface {
	Invoke(ctx context.Context, t Task) (json.RawMessage, error)
}

// IntegrationFunc adapts a function to Integration.
type IntegrationFunc func(ctx context.Context, t Task) (json.RawMessage, error)

// Invoke calls f.
func (f IntegrationFunc) Invoke(ctx context.Context, t Task) (json.RawMessage, error) {
	return f(ctx, t)
}

// Task is one invocation of an integration.
type Task struct {
	Resource        string          // as written in the definition, without the .sync/.waitForTaskToken suffix
	Pattern         string          // "", "sync" or "waitForTaskToken"
	Parameters      json.RawMessage // after InputPath and Parameters processing
	ExecutionArn    string
	StateMachineArn string
	StateName       string
	Token           string // waitForTaskToken only
	Heartbeat       func() // records a heartbeat (HeartbeatSeconds)
	// Submitted records a TaskSubmitted history event with the response of
	// the call that started the job ("sync": e.g. StartBuild's); optional.
	Submitted func(response json.RawMessage)
}

// LambdaIntegration serves "arn:aws:states:::lambda:invoke" (register it
// under that resource) and, through the same function, plain function ARNs
// ("arn:aws:lambda:REGION:ACCOUNT:function:NAME") used as Resource.
//
// invoke runs the function with the payload and returns its response. For
// lambda:invoke the task result is the shape Step Functions documents
// ({"ExecutedVersion","Payload","SdkHttpMetadata","SdkResponseMetadata",
// "StatusCode"}); for a plain function ARN it is the response itself. A
// handler error fails the task as a Lambda function error does on AWS:
// error = the error's type name (aws-lambda-go's errorType), cause =
// {"errorMessage","errorType"} JSON. A *TaskError returned by invoke is
// passed through unchanged (e.g. Lambda.ResourceNotFoundException), and so
// is an error wrapping ErrNotStarted.
func LambdaIntegration(invoke func(ctx context.Context, function string, payload json.RawMessage) (json.RawMessage, error)) Integration {
	return IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		if strings.HasPrefix(t.Resource, "arn:aws:lambda:") {
			out, err := invoke(ctx, t.Resource, t.Parameters)
			if err != nil {
				return nil, lambdaError(err)
			}
			if len(out) == 0 {
				out = json.RawMessage("null")
			}
			return out, nil
		}
		var p struct {
			FunctionName   string          `json:"FunctionName"`
			Payload        json.RawMessage `json:"Payload"`
			InvocationType string          `json:"InvocationType"`
			Qualifier      string          `json:"Qualifier"`
		}
		if err := json.Unmarshal(t.Parameters, &p); err != nil || p.FunctionName == "" {
			return nil, &TaskError{Name: "Lambda.InvalidParameterValueException", Cause: "The lambda:invoke parameters must be an object with a FunctionName"}
		}
		if len(p.Payload) == 0 {
			p.Payload = json.RawMessage("{}")
		}
		if p.InvocationType == "Event" {
			go func() { _, _ = invoke(context.WithoutCancel(ctx), p.FunctionName, p.Payload) }()
			return lambdaResult(nil, 202), nil
		}
		out, err := invoke(ctx, p.FunctionName, p.Payload)
		if err != nil {
			return nil, lambdaError(err)
		}
		if len(out) == 0 {
			out = json.RawMessage("null")
		}
		return lambdaResult(out, 200), nil
	})
}

func lambdaResult(payload json.RawMessage, status int) json.RawMessage {
	id := uuid.NewString()
	date := time.Now().UTC().Format(time.RFC1123)
	headers := map[string]string{
		"Connection":                     "keep-alive",
		"Content-Type":                   "application/json",
		"Date":                           date,
		"X-Amz-Executed-Version":         "$LATEST",
		"x-amzn-Remapped-Content-Length": "0",
		"x-amzn-RequestId":               id,
	}
	headers["Content-Length"] = fmt.Sprint(len(payload))
	all := map[string][]string{}
	for k, v := range headers {
		all[k] = []string{v}
	}
	res := map[string]any{
		"ExecutedVersion": "$LATEST",
		"SdkHttpMetadata": map[string]any{
			"AllHttpHeaders": all,
			"HttpHeaders":    headers,
			"HttpStatusCode": status,
		},
		"SdkResponseMetadata": map[string]any{"RequestId": id},
		"StatusCode":          status,
	}
	if payload != nil {
		res["Payload"] = payload
	} else {
		res["Payload"] = ""
	}
	b, _ := json.Marshal(res)
	return b
}

func lambdaError(err error) error {
	if errors.Is(err, ErrNotStarted) {
		return err
	}
	var te *TaskError
	if errors.As(err, &te) {
		return te
	}
	typ := reflect.TypeOf(err)
	for typ.Kind() == reflect.Pointer {
		typ = typ.Elem()
	}
	name := typ.Name()
	if name == "" {
		name = "Error"
	}
	cause, _ := jsonvalue.Marshal(map[string]any{"errorMessage": err.Error(), "errorType": name})
	return &TaskError{Name: name, Cause: string(cause)}
}

// EventEntry is one entry of events:putEvents, as the definition gives it.
// Detail is the JSON text of the detail (Step Functions accepts an object
// and serializes it).
type EventEntry struct {
	Source       string   `json:"Source"`
	DetailType   string   `json:"DetailType"`
	Detail       string   `json:"Detail"`
	EventBusName string   `json:"EventBusName,omitempty"`
	Resources    []string `json:"Resources,omitempty"`
	Time         string   `json:"Time,omitempty"`
	TraceHeader  string   `json:"TraceHeader,omitempty"`
}

// EventsIntegration serves "arn:aws:states:::events:putEvents": put
// receives the entries and the task result is
// {"Entries":[{"EventId":…}],"FailedEntryCount":0}. An error from put fails
// the task (a *TaskError keeps its name; others become
// EventBridge.EventBridgeException), except one wrapping ErrNotStarted.
func EventsIntegration(put func(ctx context.Context, entries []EventEntry) error) Integration {
	return IntegrationFunc(func(ctx context.Context, t Task) (json.RawMessage, error) {
		var p struct {
			Entries []map[string]json.RawMessage `json:"Entries"`
		}
		if err := json.Unmarshal(t.Parameters, &p); err != nil || len(p.Entries) == 0 || len(p.Entries) > 10 {
			return nil, &TaskError{Name: "EventBridge.ValidationException", Cause: "events:putEvents needs 1 to 10 Entries"}
		}
		entries := make([]EventEntry, 0, len(p.Entries))
		for _, raw := range p.Entries {
			var e EventEntry
			for k, v := range raw {
				var err error
				switch k {
				case "Detail":
					var s string
					if json.Unmarshal(v, &s) == nil {
						e.Detail = s
					} else {
						e.Detail = string(v)
					}
				case "Source":
					err = json.Unmarshal(v, &e.Source)
				case "DetailType":
					err = json.Unmarshal(v, &e.DetailType)
				case "EventBusName":
					err = json.Unmarshal(v, &e.EventBusName)
				case "Resources":
					err = json.Unmarshal(v, &e.Resources)
				case "Time":
					err = json.Unmarshal(v, &e.Time)
				case "TraceHeader":
					err = json.Unmarshal(v, &e.TraceHeader)
				default:
					err = fmt.Errorf("unknown field %s", k)
				}
				if err != nil {
					return nil, &TaskError{Name: "EventBridge.ValidationException", Cause: fmt.Sprintf("bad entry field %s", k)}
				}
			}
			entries = append(entries, e)
		}
		if err := put(ctx, entries); err != nil {
			if errors.Is(err, ErrNotStarted) {
				return nil, err
			}
			var te *TaskError
			if errors.As(err, &te) {
				return nil, te
			}
			return nil, &TaskError{Name: "EventBridge.EventBridgeException", Cause: err.Error()}
		}
		out := struct {
			Entries          []map[string]string `json:"Entries"`
			FailedEntryCount int                 `json:"FailedEntryCount"`
		}{}
		for range entries {
			out.Entries = append(out.Entries, map[string]string{"EventId": uuid.NewString()})
		}
		b, _ := json.Marshal(out)
		return b, nil
	})
}
