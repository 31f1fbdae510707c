package status

import (
	"bytes"
	"encoding/json"
	"testing"
)

func TestFailureMetric(t *testing.T) {
	var buf bytes.Buffer
	FailureMetric(&buf, `app"x`)(Status{}, nil)
	var m struct {
		AWS struct {
			CloudWatchMetrics []struct {
				Namespace string
				Metrics   []struct{ Name string }
			}
		} `json:"_aws"`
		Pipeline           string
		StatusPostFailures int
	}
	if err := json.Unmarshal(buf.Bytes(), &m); err != nil {
		t.Fatalf("not JSON: %v: %s", err, buf.Bytes())
	}
	if m.Pipeline != `app"x` || m.StatusPostFailures != 1 || m.AWS.CloudWatchMetrics[0].Namespace != "pushline" ||
		m.AWS.CloudWatchMetrics[0].Metrics[0].Name != "StatusPostFailures" {
		t.Errorf("metric line %s", buf.Bytes())
	}
}
