package codecommit

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	cc "github.com/aws/aws-sdk-go-v2/service/codecommit"
	cctypes "github.com/aws/aws-sdk-go-v2/service/codecommit/types"

	"github.com/pushline/pushline/shared/push"
)

// API is the part of CodeCommit's API the SDK repository calls;
// *codecommit.Client satisfies it.
type API interface {
	GetCommit(ctx context.Context, in *cc.GetCommitInput, optFns ...func(*cc.Options)) (*cc.GetCommitOutput, error)
	GetDifferences(ctx context.Context, in *cc.GetDifferencesInput, optFns ...func(*cc.Options)) (*cc.GetDifferencesOutput, error)
}

// SDK is a Repository over CodeCommit's API (IAM: codecommit:GetCommit and
// codecommit:GetDifferences on the repository).
type SDK struct{ Client API }

// Commit implements Repository with GetCommit.
func (s SDK) Commit(ctx context.Context, repository, commit string) (push.Commit, error) {
	out, err := s.Client.GetCommit(ctx, &cc.GetCommitInput{RepositoryName: aws.String(repository), CommitId: aws.String(commit)})
	if err != nil {
		return push.Commit{}, fmt.Errorf("get commit %s: %w", commit, err)
	}
	c := push.Commit{ID: commit}
	if out.Commit == nil {
		return c, nil
	}
	c.Message = aws.ToString(out.Commit.Message)
	if a := out.Commit.Author; a != nil {
		c.Author = strings.TrimSpace(aws.ToString(a.Name) + " <" + aws.ToString(a.Email) + ">")
		c.Timestamp = gitDate(aws.ToString(a.Date))
	}
	return c, nil
}

// gitDate parses CodeCommit's "1484167798 -0800" (seconds, zone).
func gitDate(s string) time.Time {
	secs, zone, _ := strings.Cut(strings.TrimSpace(s), " ")
	n, err := strconv.ParseInt(secs, 10, 64)
	if err != nil {
		return time.Time{}
	}
	t := time.Unix(n, 0).UTC()
	if len(zone) == 5 {
		h, err1 := strconv.Atoi(zone[1:3])
		m, err2 := strconv.Atoi(zone[3:5])
		if err1 == nil && err2 == nil {
			off := (h*60 + m) * 60
			if zone[0] == '-' {
				off = -off
			}
			t = t.In(time.FixedZone(zone, off))
		}
	}
	return t
}

// Changed implements Repository with GetDifferences, page by page.
func (s SDK) Changed(ctx context.Context, repository, before, after string, max int) ([]string, bool, error) {
	var files []string
	seen := map[string]bool{}
	in := &cc.GetDifferencesInput{
		RepositoryName: aws.String(repository), BeforeCommitSpecifier: aws.String(before),
		AfterCommitSpecifier: aws.String(after), MaxResults: aws.Int32(400),
	}
	for {
		out, err := s.Client.GetDifferences(ctx, in)
		if err != nil {
			return nil, false, fmt.Errorf("get differences %s..%s: %w", before, after, err)
		}
		for _, d := range out.Differences {
			for _, blob := range []*string{blobPath(d.BeforeBlob), blobPath(d.AfterBlob)} {
				if blob == nil || seen[*blob] {
					continue
				}
				if len(files) == max {
					return files, false, nil
				}
				seen[*blob] = true
				files = append(files, *blob)
			}
		}
		if aws.ToString(out.NextToken) == "" {
			return files, true, nil
		}
		in.NextToken = out.NextToken
	}
}

func blobPath(b *cctypes.BlobMetadata) *string {
	if b == nil || aws.ToString(b.Path) == "" {
		return nil
	}
	return b.Path
}
