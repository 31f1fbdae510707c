package run

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// TailLines is how many lines of a log the run page shows first.
const TailLines = 200

// LogPage is a run of consecutive lines of a build's log.
type LogPage struct {
	Lines []string `json:"lines"`
	// Earlier reads the lines before these ("" when these are the first);
	// Later reads the lines written after these (to follow a running
	// build).
	Earlier string `json:"earlier,omitempty"`
	Later   string `json:"later,omitempty"`
}

// Log reads a page of b's log: with token "" its last n lines, else the
// n lines before (an Earlier token) or the lines after (a Later token).
func (rs *Runs) Log(ctx context.Context, b *Build, token string, n int) (*LogPage, error) {
	if rs.Logs == nil || b == nil || b.LogGroup == "" || b.LogStream == "" {
		return nil, ErrNoLog
	}
	if n <= 0 || n > 10000 {
		n = TailLines
	}
	in := &cloudwatchlogs.GetLogEventsInput{
		LogGroupName: aws.String(b.LogGroup), LogStreamName: aws.String(b.LogStream),
		Limit: aws.Int32(int32(n)), StartFromHead: aws.Bool(strings.HasPrefix(token, "f/")),
	}
	if token != "" {
		if !strings.HasPrefix(token, "f/") && !strings.HasPrefix(token, "b/") || len(token) > 1024 {
			return nil, fmt.Errorf("log token: %w", ErrBadInput)
		}
		in.NextToken = aws.String(token)
	}
	out, err := rs.Logs.GetLogEvents(ctx, in)
	if err != nil {
		var nf *cwltypes.ResourceNotFoundException
		var bad *cwltypes.InvalidParameterException
		switch {
		case errors.As(err, &nf):
			return nil, fmt.Errorf("log of %s: %w", b.ID, ErrNoLog)
		case errors.As(err, &bad):
			return nil, fmt.Errorf("log of %s: %w", b.ID, ErrBadInput)
		}
		return nil, fmt.Errorf("log of %s: %w", b.ID, err)
	}
	p := &LogPage{Lines: make([]string, 0, len(out.Events)), Later: aws.ToString(out.NextForwardToken)}
	for _, e := range out.Events {
		p.Lines = append(p.Lines, strings.TrimRight(aws.ToString(e.Message), "\r\n"))
	}
	// CloudWatch answers the token it was given once there is nothing
	// earlier; fewer lines than asked for means the same.
	if back := aws.ToString(out.NextBackwardToken); back != token && len(out.Events) >= n && back != "b/0" {
		p.Earlier = back
	}
	if strings.HasPrefix(token, "f/") {
		p.Earlier = ""
	}
	return p, nil
}
