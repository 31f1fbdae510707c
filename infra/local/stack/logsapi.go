package stack

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"

	"github.com/pushline/pushline/shared/run"
)

// logsTarget prefixes the X-Amz-Target of CloudWatch Logs calls.
const logsTarget = "Logs_20140328."

// logsAPI serves CloudWatch Logs' GetLogEvents (the JSON 1.1 protocol)
// from the build logs, so `pushline logs` and the AWS CLI read them as in
// AWS: group /aws/codebuild/<project>, stream the build id's UUID.
func logsAPI(logs run.FileLogs) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/x-amz-json-1.1")
		fail := func(code int, typ, msg string) {
			w.WriteHeader(code)
			json.NewEncoder(w).Encode(map[string]string{"__type": typ, "message": msg})
		}
		if r.Header.Get("X-Amz-Target") != logsTarget+"GetLogEvents" {
			fail(http.StatusBadRequest, "UnknownOperationException", "the local stack serves GetLogEvents only")
			return
		}
		body, err := io.ReadAll(io.LimitReader(r.Body, 64<<10))
		if err != nil {
			fail(http.StatusBadRequest, "SerializationException", "unreadable body")
			return
		}
		var in struct {
			LogGroupName, LogStreamName string
			NextToken                   *string
			Limit                       *int32
			StartFromHead               *bool
		}
		if err := json.Unmarshal(body, &in); err != nil {
			fail(http.StatusBadRequest, "SerializationException", "body is not a GetLogEvents request")
			return
		}
		out, err := logs.GetLogEvents(r.Context(), &cloudwatchlogs.GetLogEventsInput{
			LogGroupName: aws.String(in.LogGroupName), LogStreamName: aws.String(in.LogStreamName),
			NextToken: in.NextToken, Limit: in.Limit, StartFromHead: in.StartFromHead,
		})
		var nf *cwltypes.ResourceNotFoundException
		var bad *cwltypes.InvalidParameterException
		switch {
		case errors.As(err, &nf):
			fail(http.StatusBadRequest, "ResourceNotFoundException", nf.ErrorMessage())
			return
		case errors.As(err, &bad):
			fail(http.StatusBadRequest, "InvalidParameterException", bad.ErrorMessage())
			return
		case err != nil:
			fail(http.StatusInternalServerError, "ServiceUnavailableException", "the log could not be read")
			return
		}
		type event struct {
			Timestamp     int64  `json:"timestamp"`
			Message       string `json:"message"`
			IngestionTime int64  `json:"ingestionTime"`
		}
		res := struct {
			Events            []event `json:"events"`
			NextForwardToken  string  `json:"nextForwardToken"`
			NextBackwardToken string  `json:"nextBackwardToken"`
		}{Events: make([]event, 0, len(out.Events)), NextForwardToken: aws.ToString(out.NextForwardToken), NextBackwardToken: aws.ToString(out.NextBackwardToken)}
		for _, e := range out.Events {
			res.Events = append(res.Events, event{aws.ToInt64(e.Timestamp), aws.ToString(e.Message), aws.ToInt64(e.IngestionTime)})
		}
		json.NewEncoder(w).Encode(res)
	})
}
