package codedeploy

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"unicode"
	"unicode/utf8"
)

// TargetPrefix is the X-Amz-Target prefix of CodeDeploy's JSON protocol.
const TargetPrefix = "CodeDeploy_20141006."

// IsAPIRequest reports whether r is a CodeDeploy API call.
func IsAPIRequest(r *http.Request) bool {
	return strings.HasPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
}

// InstanceID is the local instance's target id.
const InstanceID = "local-instance"

// maxRequest bounds an API request body.
const maxRequest = 1 << 20

// Handler serves CodeDeploy's JSON protocol (aws codedeploy
// --endpoint-url …, the SDK): CreateDeployment, GetDeployment,
// StopDeployment, ListDeploymentTargets and GetDeploymentTarget.
func (s *Service) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), TargetPrefix)
		body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxRequest))
		if err != nil {
			writeError(w, apiErr("SerializationException", "the request body could not be read"))
			return
		}
		out, err := s.call(r.Context(), op, body)
		if err != nil {
			s.o.Logger.Info("codedeploy api", "op", op, "err", err)
			writeError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		w.Write(out)
	})
}

func writeError(w http.ResponseWriter, err error) {
	var api *APIError
	code := http.StatusBadRequest
	if !errors.As(err, &api) {
		api, code = &APIError{Code: "InternalFailure", Message: "internal error"}, http.StatusInternalServerError
	}
	w.Header().Set("Content-Type", "application/x-amz-json-1.1")
	w.Header().Set("X-Amzn-ErrorType", api.Code)
	w.WriteHeader(code)
	b, _ := json.Marshal(map[string]string{"__type": api.Code, "message": api.Message})
	w.Write(b)
}

// call runs one operation; field names decode case-insensitively, so the
// JSON protocol's camelCase and Step Functions' PascalCase both work.
func (s *Service) call(ctx context.Context, op string, body []byte) ([]byte, error) {
	if len(bytes.TrimSpace(body)) == 0 {
		body = []byte("{}")
	}
	decode := func(v any) error {
		if err := json.Unmarshal(body, v); err != nil {
			return apiErr("SerializationException", "the request is not valid JSON for "+op+": "+err.Error())
		}
		return nil
	}
	var req struct {
		DeploymentID string `json:"deploymentId"`
		TargetID     string `json:"targetId"`
	}
	switch op {
	case "CreateDeployment":
		var in CreateDeploymentInput
		if err := decode(&in); err != nil {
			return nil, err
		}
		id, err := s.CreateDeployment(ctx, in)
		if err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"deploymentId": id})
	case "GetDeployment":
		if err := decode(&req); err != nil {
			return nil, err
		}
		info, err := s.GetDeployment(ctx, req.DeploymentID)
		if err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"deploymentInfo": info})
	case "StopDeployment":
		if err := decode(&req); err != nil {
			return nil, err
		}
		if err := s.StopDeployment(ctx, req.DeploymentID); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]string{"status": "Pending", "statusMessage": "Stopping the deployment"})
	case "ListDeploymentTargets":
		if err := decode(&req); err != nil {
			return nil, err
		}
		if _, err := s.GetDeployment(ctx, req.DeploymentID); err != nil {
			return nil, err
		}
		return json.Marshal(map[string]any{"targetIds": []string{InstanceID}})
	case "GetDeploymentTarget":
		if err := decode(&req); err != nil {
			return nil, err
		}
		info, err := s.GetDeployment(ctx, req.DeploymentID)
		if err != nil {
			return nil, err
		}
		if req.TargetID != InstanceID {
			return nil, apiErr("DeploymentTargetDoesNotExistException", "No target "+req.TargetID+" in deployment "+req.DeploymentID)
		}
		return json.Marshal(map[string]any{"deploymentTarget": map[string]any{
			"deploymentTargetType": "InstanceTarget",
			"instanceTarget": map[string]any{
				"deploymentId": info.DeploymentID, "targetId": InstanceID, "status": info.Status,
				"lifecycleEvents": info.LifecycleEvents,
			},
		}})
	}
	return nil, apiErr("UnknownOperationException", fmt.Sprintf("the local CodeDeploy does not serve %q", op))
}

// Call serves Step Functions' AWS SDK integration
// (arn:aws:states:::aws-sdk:codedeploy:<action>): action is the camelCase
// API action, params the task's PascalCase parameters; the result has
// PascalCase keys, as the integration returns them. An *APIError's Code
// becomes the task's error name after "CodeDeploy.".
func (s *Service) Call(ctx context.Context, action string, params json.RawMessage) (json.RawMessage, error) {
	if action == "" {
		return nil, apiErr("UnknownOperationException", "no action")
	}
	r, size := utf8.DecodeRuneInString(action)
	out, err := s.call(ctx, string(unicode.ToUpper(r))+action[size:], params)
	if err != nil {
		return nil, err
	}
	var v any
	if err := json.Unmarshal(out, &v); err != nil {
		return nil, err
	}
	return json.Marshal(pascal(v))
}

// pascal upper-cases the first letter of every object key.
func pascal(v any) any {
	switch t := v.(type) {
	case map[string]any:
		m := make(map[string]any, len(t))
		for k, x := range t {
			r, size := utf8.DecodeRuneInString(k)
			m[string(unicode.ToUpper(r))+k[size:]] = pascal(x)
		}
		return m
	case []any:
		for i := range t {
			t[i] = pascal(t[i])
		}
	}
	return v
}
