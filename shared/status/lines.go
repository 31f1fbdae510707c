package status

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"time"

	"github.com/pushline/pushline/shared/event"
)

// HandleLines feeds h the events read from r, one JSON EventBridge event a
// line (an events.jsonl), as the status function does outside Lambda; a
// line that is no event, or fails, is logged and skipped.
func HandleLines(ctx context.Context, h *Handler, r io.Reader, log *slog.Logger) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		var ev event.Event
		if err := json.Unmarshal(sc.Bytes(), &ev); err != nil {
			log.Error("read event", "err", err)
			continue
		}
		if err := h.Handle(ctx, ev); err != nil {
			log.Error("handle event", "err", err)
		}
	}
	return sc.Err()
}

// FailureMetric returns an OnFailure that writes one CloudWatch Embedded
// Metric Format line to w per failed post: metric pushline/StatusPostFailures,
// dimension Pipeline.
func FailureMetric(w io.Writer, pipeline string) func(Status, error) {
	return func(Status, error) {
		fmt.Fprintf(w, `{"_aws":{"Timestamp":%d,"CloudWatchMetrics":[{"Namespace":"pushline","Dimensions":[["Pipeline"]],"Metrics":[{"Name":"StatusPostFailures","Unit":"Count"}]}]},"Pipeline":%q,"StatusPostFailures":1}`+"\n",
			time.Now().UnixMilli(), pipeline)
	}
}
