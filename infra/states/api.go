package states

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
)

// Handler serves the Step Functions JSON protocol: POST / with
// X-Amz-Target: AWSStepFunctions.<Operation> and an
// application/x-amz-json-1.0 body. Errors are 400 with
// {"__type","message"} (5xx only for the engine's own failures).
func (e *Engine) Handler() http.Handler {
	e.Resume()
	ops := map[string]func(context.Context, []byte) (any, error){
		"CreateStateMachine":               call(e.CreateStateMachine),
		"DescribeStateMachine":             call(e.DescribeStateMachine),
		"ListStateMachines":                call(e.ListStateMachines),
		"UpdateStateMachine":               call(e.UpdateStateMachine),
		"DeleteStateMachine":               call(e.DeleteStateMachine),
		"ValidateStateMachineDefinition":   call(e.ValidateStateMachineDefinition),
		"StartExecution":                   call(e.StartExecution),
		"DescribeExecution":                call(e.DescribeExecution),
		"ListExecutions":                   call(e.ListExecutions),
		"GetExecutionHistory":              call(e.GetExecutionHistory),
		"StopExecution":                    call(e.StopExecution),
		"RedriveExecution":                 call(e.RedriveExecution),
		"SendTaskSuccess":                  call(e.SendTaskSuccess),
		"SendTaskFailure":                  call(e.SendTaskFailure),
		"SendTaskHeartbeat":                call(e.SendTaskHeartbeat),
		"DescribeStateMachineForExecution": call(e.DescribeStateMachineForExecution),
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodPost {
			writeErr(w, http.StatusMethodNotAllowed, apiErr("UnknownOperationException", "only POST is supported"))
			return
		}
		target := r.Header.Get("X-Amz-Target")
		name, ok := strings.CutPrefix(target, "AWSStepFunctions.")
		fn := ops[name]
		if !ok || fn == nil {
			writeErr(w, http.StatusBadRequest, apiErr("UnknownOperationException", "Unknown operation "+target))
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 4<<20))
		if err != nil {
			writeErr(w, http.StatusBadRequest, apiErr("SerializationException", "cannot read the request body"))
			return
		}
		out, err := fn(r.Context(), body)
		if err != nil {
			var ae *APIError
			if errors.As(err, &ae) {
				status := http.StatusBadRequest
				if ae.Type == "ServiceUnavailable" {
					status = http.StatusServiceUnavailable
				}
				writeErr(w, status, ae)
				return
			}
			e.log.Error("step functions api", "operation", name, "error", err)
			writeErr(w, http.StatusInternalServerError, apiErr("InternalFailure", "internal error"))
			return
		}
		b, err := json.Marshal(out)
		if err != nil {
			writeErr(w, http.StatusInternalServerError, apiErr("InternalFailure", "internal error"))
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.0")
		w.Write(b)
	})
}

func call[In, Out any](fn func(context.Context, In) (Out, error)) func(context.Context, []byte) (any, error) {
	return func(ctx context.Context, body []byte) (any, error) {
		var in In
		if len(bytes.TrimSpace(body)) > 0 {
			if err := json.Unmarshal(body, &in); err != nil {
				return nil, apiErr("SerializationException", "cannot parse the request: "+err.Error())
			}
		}
		return fn(ctx, in)
	}
}

func writeErr(w http.ResponseWriter, status int, e *APIError) {
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	w.Header().Set("X-Amzn-ErrorType", e.Type)
	w.WriteHeader(status)
	b, _ := json.Marshal(map[string]string{"__type": "com.amazonaws.swf.service.model.v20120810#" + e.Type, "message": e.Message})
	w.Write(b)
}
