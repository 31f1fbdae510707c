package run

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs"
	cwltypes "github.com/aws/aws-sdk-go-v2/service/cloudwatchlogs/types"
)

// FileLogs answers GetLogEvents from log files, one a stream, as the local
// stack keeps build logs. Tokens are byte offsets ("b/<offset>" reads
// backwards from there, "f/<offset>" forwards), so the tail of a long log
// costs what the lines read, not the file's size.
type FileLogs struct {
	// Path returns the file of a stream, fs.ErrNotExist for none.
	Path func(group, stream string) (string, error)
}

// maxChunk is how much FileLogs reads at a time.
const maxChunk = 64 << 10

// GetLogEvents reads up to Limit lines (default 10,000, at most 1 MiB).
func (fl FileLogs) GetLogEvents(_ context.Context, in *cloudwatchlogs.GetLogEventsInput, _ ...func(*cloudwatchlogs.Options)) (*cloudwatchlogs.GetLogEventsOutput, error) {
	p, err := fl.Path(aws.ToString(in.LogGroupName), aws.ToString(in.LogStreamName))
	if err != nil {
		return nil, &cwltypes.ResourceNotFoundException{Message: aws.String("The specified log stream does not exist.")}
	}
	f, err := os.Open(p)
	if errors.Is(err, fs.ErrNotExist) { // no line written yet
		return &cloudwatchlogs.GetLogEventsOutput{NextForwardToken: aws.String("f/0"), NextBackwardToken: aws.String("b/0"), Events: []cwltypes.OutputLogEvent{}}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	size := st.Size()
	limit := int(aws.ToInt32(in.Limit))
	if limit <= 0 || limit > 10000 {
		limit = 10000
	}
	forward := aws.ToBool(in.StartFromHead)
	var off int64 = -1
	if tok := aws.ToString(in.NextToken); tok != "" {
		dir, num, ok := strings.Cut(tok, "/")
		n, perr := strconv.ParseInt(num, 10, 64)
		if !ok || perr != nil || n < 0 || (dir != "f" && dir != "b") {
			return nil, &cwltypes.InvalidParameterException{Message: aws.String("The specified nextToken is invalid.")}
		}
		forward, off = dir == "f", min(n, size)
	}
	var lines []string
	var start, end int64
	if forward {
		if off < 0 {
			off = 0
		}
		lines, end = readForward(f, off, size, limit)
		start = off
	} else {
		if off < 0 {
			off = size
		}
		lines, start = readBackward(f, off, limit)
		end = off
	}
	ms := st.ModTime().UnixMilli()
	out := &cloudwatchlogs.GetLogEventsOutput{
		Events:            make([]cwltypes.OutputLogEvent, 0, len(lines)),
		NextForwardToken:  aws.String("f/" + strconv.FormatInt(end, 10)),
		NextBackwardToken: aws.String("b/" + strconv.FormatInt(start, 10)),
	}
	for _, l := range lines {
		out.Events = append(out.Events, cwltypes.OutputLogEvent{Message: aws.String(l), Timestamp: aws.Int64(ms), IngestionTime: aws.Int64(time.Now().UnixMilli())})
	}
	return out, nil
}

// readForward reads up to limit complete lines from off; it returns them
// and the offset after the last.
func readForward(f *os.File, off, size int64, limit int) ([]string, int64) {
	var lines []string
	buf := make([]byte, 0, maxChunk)
	chunk := make([]byte, maxChunk)
	pos := off
	for len(lines) < limit && pos < size {
		n, err := f.ReadAt(chunk, pos)
		buf = append(buf, chunk[:n]...)
		pos += int64(n)
		for len(lines) < limit {
			i := bytes.IndexByte(buf, '\n')
			if i < 0 {
				break
			}
			lines = append(lines, string(buf[:i]))
			off += int64(i + 1)
			buf = buf[i+1:]
		}
		if err == io.EOF || n == 0 || len(buf) > 1<<20 {
			break
		}
	}
	return lines, off
}

// readBackward reads up to limit lines ending at end (a line cut at end
// is left for a later forward read); it returns them and where the first
// starts.
func readBackward(f *os.File, end int64, limit int) ([]string, int64) {
	var tail []byte // the bytes from pos to end
	pos := end
	// Leave out a last line without its newline (still being written).
	if end > 0 {
		last := make([]byte, 1)
		if _, err := f.ReadAt(last, end-1); err == nil && last[0] != '\n' {
			for pos > 0 {
				n := min(int64(maxChunk), pos)
				chunk := make([]byte, n)
				if _, err := f.ReadAt(chunk, pos-n); err != nil && err != io.EOF {
					return nil, end
				}
				if i := bytes.LastIndexByte(chunk, '\n'); i >= 0 {
					pos = pos - n + int64(i) + 1
					break
				}
				pos -= n
			}
			end = pos
		}
	}
	for pos > 0 && bytes.Count(tail, []byte{'\n'}) <= limit {
		n := min(int64(maxChunk), pos)
		chunk := make([]byte, n)
		if _, err := f.ReadAt(chunk, pos-n); err != nil && err != io.EOF {
			break
		}
		tail = append(chunk, tail...)
		pos -= n
	}
	// tail holds whole lines after its first newline (or from 0).
	start := pos
	if pos > 0 {
		i := bytes.IndexByte(tail, '\n')
		tail = tail[i+1:]
		start = pos + int64(i) + 1
	}
	text := strings.TrimSuffix(string(tail), "\n")
	if text == "" && len(tail) == 0 {
		return nil, start
	}
	lines := strings.Split(text, "\n")
	if len(lines) > limit {
		for _, l := range lines[:len(lines)-limit] {
			start += int64(len(l)) + 1
		}
		lines = lines[len(lines)-limit:]
	}
	return lines, start
}
