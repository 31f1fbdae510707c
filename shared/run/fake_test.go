package run

import (
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/sfn"
)

const machine = "arn:aws:states:us-east-1:000000000000:stateMachine:pushline-app"

// recorded serves the Step Functions answers recorded in testdata/<dir>
// (describe.json, history.json, list.json: the local engine's raw
// answers) to a real SDK client, and records StartExecution calls.
type recorded struct {
	t       *testing.T
	files   map[string][]byte
	mu      sync.Mutex
	started []map[string]any
	status  string // overrides the described status when set
}

func newRecorded(t *testing.T, dir string) (*recorded, *sfn.Client) {
	t.Helper()
	rec := &recorded{t: t, files: map[string][]byte{}}
	for _, f := range []string{"describe", "history", "list"} {
		b, err := os.ReadFile(filepath.Join("testdata", dir, f+".json"))
		if err != nil {
			t.Fatal(err)
		}
		rec.files[f] = b
	}
	srv := httptest.NewServer(rec)
	t.Cleanup(srv.Close)
	c := sfn.NewFromConfig(aws.Config{
		Region: "us-east-1", Credentials: credentials.NewStaticCredentialsProvider("k", "s", ""),
		BaseEndpoint: aws.String(srv.URL),
	})
	return rec, c
}

func (rec *recorded) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	body, _ := io.ReadAll(r.Body)
	w.Header().Set("Content-Type", "application/x-amz-json-1.0")
	op := strings.TrimPrefix(r.Header.Get("X-Amz-Target"), "AWSStepFunctions.")
	var in map[string]any
	_ = json.Unmarshal(body, &in)
	notFound := func() {
		w.WriteHeader(400)
		io.WriteString(w, `{"__type":"com.amazonaws.swf.service.v2.model#ExecutionDoesNotExist","message":"Execution Does Not Exist"}`)
	}
	var desc map[string]any
	_ = json.Unmarshal(rec.files["describe"], &desc)
	switch op {
	case "DescribeExecution":
		if in["executionArn"] != desc["executionArn"] {
			notFound()
			return
		}
		if rec.status != "" {
			desc["status"] = rec.status
		}
		json.NewEncoder(w).Encode(desc)
	case "GetExecutionHistory":
		if in["executionArn"] != desc["executionArn"] {
			notFound()
			return
		}
		w.Write(rec.files["history"])
	case "ListExecutions":
		w.Write(rec.files["list"])
	case "StartExecution":
		rec.mu.Lock()
		rec.started = append(rec.started, in)
		rec.mu.Unlock()
		json.NewEncoder(w).Encode(map[string]any{
			"executionArn": strings.Replace(machine, ":stateMachine:", ":execution:", 1) + ":" + in["name"].(string),
			"startDate":    1796648100.0,
		})
	default:
		w.WriteHeader(400)
		io.WriteString(w, `{"__type":"UnknownOperationException"}`)
	}
}
