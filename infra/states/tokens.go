package states

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/binary"
	"strings"

	"github.com/pushline/pushline/infra/states/jsonvalue"
)

type tokenWait struct {
	x  *execution
	ch chan tokenMsg
}

type tokenMsg struct {
	heartbeat bool
	output    any
	err       *TaskError
	done      chan error
}

func (e *Engine) newToken(execID int64) string {
	b := make([]byte, 8+24)
	binary.BigEndian.PutUint64(b, uint64(execID))
	rand.Read(b[8:])
	return "AQB" + base64.RawURLEncoding.EncodeToString(b)
}

func tokenExec(tok string) (int64, bool) {
	rest, ok := strings.CutPrefix(tok, "AQB")
	if !ok {
		return 0, false
	}
	b, err := base64.RawURLEncoding.DecodeString(rest)
	if err != nil || len(b) != 32 {
		return 0, false
	}
	return int64(binary.BigEndian.Uint64(b)), true
}

// SendTaskSuccessInput is the SendTaskSuccess request.
type SendTaskSuccessInput struct {
	TaskToken string `json:"taskToken"`
	Output    string `json:"output"`
}

// SendTaskFailureInput is the SendTaskFailure request.
type SendTaskFailureInput struct {
	TaskToken string `json:"taskToken"`
	Error     string `json:"error,omitempty"`
	Cause     string `json:"cause,omitempty"`
}

// SendTaskHeartbeatInput is the SendTaskHeartbeat request.
type SendTaskHeartbeatInput struct {
	TaskToken string `json:"taskToken"`
}

// SendTaskSuccess completes a waitForTaskToken task with output. It
// returns once the result is durable.
func (e *Engine) SendTaskSuccess(ctx context.Context, in SendTaskSuccessInput) (*struct{}, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if len(in.Output) > MaxPayload {
		return nil, apiErr("InvalidOutput", "Invalid Output: 'The output exceeds the maximum size of 262144 bytes'")
	}
	v, err := jsonvalue.Decode(in.Output)
	if err != nil {
		return nil, apiErr("InvalidOutput", "Invalid Output: '"+err.Error()+"'")
	}
	return e.sendToken(ctx, in.TaskToken, tokenMsg{output: v})
}

// SendTaskFailure fails a waitForTaskToken task with error and cause.
func (e *Engine) SendTaskFailure(ctx context.Context, in SendTaskFailureInput) (*struct{}, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	if len(in.Error) > 256 || len(in.Cause) > 32768 {
		return nil, apiErr("ValidationException", "error must be at most 256 and cause at most 32768 characters")
	}
	return e.sendToken(ctx, in.TaskToken, tokenMsg{err: &TaskError{Name: in.Error, Cause: in.Cause}})
}

// SendTaskHeartbeat records a heartbeat for a waitForTaskToken task.
func (e *Engine) SendTaskHeartbeat(ctx context.Context, in SendTaskHeartbeatInput) (*struct{}, error) {
	if err := e.begin(); err != nil {
		return nil, err
	}
	defer e.calls.Done()
	return e.sendToken(ctx, in.TaskToken, tokenMsg{heartbeat: true})
}

func (e *Engine) sendToken(ctx context.Context, tok string, m tokenMsg) (*struct{}, error) {
	if len(tok) == 0 || len(tok) > 2048 {
		return nil, apiErr("InvalidToken", "Invalid Token: 'The task token is malformed'")
	}
	execID, ok := tokenExec(tok)
	if !ok {
		return nil, apiErr("InvalidToken", "Invalid Token: 'The task token is malformed'")
	}
	m.done = make(chan error, 1)
	e.mu.Lock()
	tw, ok := e.tokens[tok]
	if ok {
		select {
		case tw.ch <- m:
		default:
			ok = false
		}
	}
	e.mu.Unlock()
	if !ok {
		if e.st.executionIDExists(ctx, execID) {
			return nil, apiErr("TaskTimedOut", "Task Timed Out: 'Provided task does not exist anymore'")
		}
		return nil, apiErr("TaskDoesNotExist", "Task Does Not Exist: 'Provided task does not exist'")
	}
	select {
	case err := <-m.done:
		if err != nil {
			return nil, err
		}
		return &struct{}{}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}
