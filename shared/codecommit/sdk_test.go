package codecommit

import (
	"context"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	cc "github.com/aws/aws-sdk-go-v2/service/codecommit"
	cctypes "github.com/aws/aws-sdk-go-v2/service/codecommit/types"
	"github.com/google/go-cmp/cmp"
)

type fakeAPI struct {
	pages [][]cctypes.Difference
}

func (f *fakeAPI) GetCommit(_ context.Context, in *cc.GetCommitInput, _ ...func(*cc.Options)) (*cc.GetCommitOutput, error) {
	return &cc.GetCommitOutput{Commit: &cctypes.Commit{
		CommitId: in.CommitId, Message: aws.String("msg\n"),
		Author: &cctypes.UserInfo{Name: aws.String("Mary"), Email: aws.String("m@x"), Date: aws.String("1484167798 -0800")},
	}}, nil
}

func (f *fakeAPI) GetDifferences(_ context.Context, in *cc.GetDifferencesInput, _ ...func(*cc.Options)) (*cc.GetDifferencesOutput, error) {
	i := 0
	if in.NextToken != nil {
		i = int((*in.NextToken)[0] - '0')
	}
	out := &cc.GetDifferencesOutput{Differences: f.pages[i]}
	if i+1 < len(f.pages) {
		out.NextToken = aws.String(string(rune('0' + i + 1)))
	}
	return out, nil
}

func blob(p string) *cctypes.BlobMetadata { return &cctypes.BlobMetadata{Path: aws.String(p)} }

func TestSDK(t *testing.T) {
	api := &fakeAPI{pages: [][]cctypes.Difference{
		{{AfterBlob: blob("a.go"), ChangeType: cctypes.ChangeTypeEnumAdded}, {BeforeBlob: blob("old.go"), AfterBlob: blob("new.go"), ChangeType: cctypes.ChangeTypeEnumModified}},
		{{BeforeBlob: blob("gone.go"), ChangeType: cctypes.ChangeTypeEnumDeleted}},
	}}
	s := SDK{Client: api}
	files, complete, err := s.Changed(context.Background(), "app", c2, c1, 10)
	if err != nil {
		t.Fatal(err)
	}
	if d := cmp.Diff([]string{"a.go", "old.go", "new.go", "gone.go"}, files); d != "" || !complete {
		t.Errorf("files (-want +got) complete=%v:\n%s", complete, d)
	}
	files, complete, _ = s.Changed(context.Background(), "app", c2, c1, 2)
	if len(files) != 2 || complete {
		t.Errorf("bounded: %v %v", files, complete)
	}
	c, err := s.Commit(context.Background(), "app", c1)
	if err != nil {
		t.Fatal(err)
	}
	if c.Message != "msg\n" || c.Author != "Mary <m@x>" || c.Timestamp.Unix() != 1484167798 {
		t.Errorf("commit %+v", c)
	}
	if _, off := c.Timestamp.Zone(); off != -8*3600 {
		t.Errorf("zone offset %d", off)
	}
}
