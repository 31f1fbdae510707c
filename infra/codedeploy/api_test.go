package codedeploy

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

func post(t *testing.T, url, op, body string) (int, map[string]any) {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	req.Header.Set("X-Amz-Target", TargetPrefix+op)
	req.Header.Set("Content-Type", "application/x-amz-json-1.1")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	var m map[string]any
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatalf("%s: %s", op, b)
	}
	return resp.StatusCode, m
}

func TestAPI(t *testing.T) {
	h := newHarness(t, nil)
	rev := h.revision("v1", 30, nil)
	srv := httptest.NewServer(h.svc.Handler())
	defer srv.Close()

	code, out := post(t, srv.URL, "CreateDeployment", `{"applicationName":"app","deploymentGroupName":"prod","revision":{"revisionType":"S3","s3Location":{"bucket":"bucket","key":"`+rev.S3Location.Key+`","bundleType":"zip"}}}`)
	id, _ := out["deploymentId"].(string)
	if code != 200 || !strings.HasPrefix(id, "d-") || len(id) != 11 {
		t.Fatalf("CreateDeployment: %d %v", code, out)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	h.svc.Wait(ctx, id)
	code, out = post(t, srv.URL, "GetDeployment", `{"deploymentId":"`+id+`"}`)
	info, _ := out["deploymentInfo"].(map[string]any)
	if code != 200 || info["status"] != "Succeeded" || info["deploymentGroupName"] != "prod" {
		t.Fatalf("GetDeployment: %d %v", code, out)
	}
	if _, ok := info["createTime"].(float64); !ok {
		t.Errorf("createTime is not epoch seconds: %v", info["createTime"])
	}
	code, out = post(t, srv.URL, "GetDeploymentTarget", `{"deploymentId":"`+id+`","targetId":"local-instance"}`)
	if code != 200 || !strings.Contains(mustJSON(out), `"lifecycleEventName":"ValidateService"`) {
		t.Fatalf("GetDeploymentTarget: %d %v", code, out)
	}
	for _, tc := range []struct{ op, body, typ string }{
		{"GetDeployment", `{"deploymentId":"d-AAAAAAAAA"}`, "DeploymentDoesNotExistException"},
		{"GetDeployment", `{`, "SerializationException"},
		{"CreateDeployment", `{"applicationName":"nope","deploymentGroupName":"prod"}`, "ApplicationDoesNotExistException"},
		{"DeleteApplication", `{}`, "UnknownOperationException"},
	} {
		code, out := post(t, srv.URL, tc.op, tc.body)
		if code != 400 || out["__type"] != tc.typ {
			t.Errorf("%s %s: %d %v, want 400 %s", tc.op, tc.body, code, out, tc.typ)
		}
	}
}

func TestCall(t *testing.T) {
	h := newHarness(t, nil)
	rev := h.revision("v1", 30, nil)
	// As Step Functions passes the aws-sdk task's parameters: PascalCase.
	out, err := h.svc.Call(context.Background(), "createDeployment", json.RawMessage(`{"ApplicationName":"app","DeploymentGroupName":"prod","Revision":{"RevisionType":"S3","S3Location":{"Bucket":"bucket","Key":"`+rev.S3Location.Key+`","BundleType":"zip"}}}`))
	if err != nil {
		t.Fatal(err)
	}
	var created struct{ DeploymentId string }
	json.Unmarshal(out, &created)
	h.svc.Wait(context.Background(), created.DeploymentId)
	out, err = h.svc.Call(context.Background(), "getDeployment", json.RawMessage(`{"DeploymentId":"`+created.DeploymentId+`"}`))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(out), `"DeploymentInfo":{`) || !strings.Contains(string(out), `"Status":"Succeeded"`) {
		t.Errorf("getDeployment = %s", out)
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}
