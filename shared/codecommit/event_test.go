package codecommit

import (
	"context"
	"errors"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pushline/pushline/shared/ingest"
	"github.com/pushline/pushline/shared/push"
)

const (
	c1 = "1111111111111111111111111111111111111111"
	c2 = "2222222222222222222222222222222222222222"
)

func event(mod func(*Event)) Event {
	ev := Event{
		ID: "ev-1", Source: Source, DetailType: DetailType, Region: "eu-west-1",
		Detail: Detail{
			Event: ReferenceUpdated, CommitID: c1, OldCommitID: c2, ReferenceFullName: "refs/heads/main",
			ReferenceName: "main", ReferenceType: "branch", RepositoryName: "app", CallerUserArn: "arn:aws:iam::1:user/mary",
		},
	}
	if mod != nil {
		mod(&ev)
	}
	return ev
}

func TestParseSample(t *testing.T) {
	b, err := os.ReadFile("testdata/referenceUpdated.json")
	if err != nil {
		t.Fatal(err)
	}
	ev, err := Parse(b)
	if err != nil {
		t.Fatal(err)
	}
	p, ignored := ToPush(ev)
	want := push.Push{
		Provider: "codecommit", Repository: "app",
		CloneURL: "https://git-codecommit.eu-west-1.amazonaws.com/v1/repos/app",
		WebURL:   "https://eu-west-1.console.aws.amazon.com/codesuite/codecommit/repositories/app/browse?region=eu-west-1",
		Ref:      "refs/heads/main", Branch: "main", Before: c2, After: c1,
		Pusher: "arn:aws:iam::123456789012:user/mary", HeadCommit: push.Commit{ID: c1},
		DeliveryID: "01234567-0123-0123-0123-012345678901",
	}
	if ignored != "" {
		t.Fatal(ignored)
	}
	if d := cmp.Diff(want, p); d != "" {
		t.Errorf("push (-want +got):\n%s", d)
	}
}

func TestToPush(t *testing.T) {
	for _, tc := range []struct {
		name    string
		mod     func(*Event)
		ref     string
		before  string
		ignored string
	}{
		{name: "branch updated", ref: "refs/heads/main", before: c2},
		{name: "branch created", mod: func(e *Event) { e.Detail.Event, e.Detail.OldCommitID = ReferenceCreated, "" }, ref: "refs/heads/main", before: push.ZeroCommit},
		{name: "tag created", mod: func(e *Event) {
			e.Detail.Event, e.Detail.ReferenceType, e.Detail.ReferenceName, e.Detail.ReferenceFullName = ReferenceCreated, "tag", "v1.0.0", "refs/tags/v1.0.0"
		}, ref: "refs/tags/v1.0.0", before: push.ZeroCommit},
		{name: "full name missing", mod: func(e *Event) { e.Detail.ReferenceFullName = "" }, ref: "refs/heads/main", before: c2},
		{name: "deleted", mod: func(e *Event) { e.Detail.Event, e.Detail.CommitID = ReferenceDeleted, "" }, ignored: "reference deleted"},
		{name: "pull request event", mod: func(e *Event) { e.DetailType = "CodeCommit Pull Request State Change" }, ignored: "not a CodeCommit reference change (aws.codecommit / CodeCommit Pull Request State Change)"},
		{name: "comment", mod: func(e *Event) { e.Detail.Event = "commentOnCommitCreated" }, ignored: `unsupported CodeCommit event "commentOnCommitCreated"`},
		{name: "no repository", mod: func(e *Event) { e.Detail.RepositoryName = "" }, ignored: "the event names no repository"},
		{name: "bad commit", mod: func(e *Event) { e.Detail.CommitID = "HEAD" }, ignored: `the event's commitId "HEAD" is not a commit id`},
		{name: "unknown ref type", mod: func(e *Event) { e.Detail.ReferenceType = "note" }, ignored: `unsupported reference type "note"`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			p, ignored := ToPush(event(tc.mod))
			if ignored != tc.ignored {
				t.Fatalf("ignored = %q, want %q", ignored, tc.ignored)
			}
			if tc.ignored != "" {
				return
			}
			if p.Ref != tc.ref || p.Before != tc.before || p.After != c1 || p.Provider != push.CodeCommit {
				t.Errorf("push %+v", p)
			}
		})
	}
}

type fakeStarter struct {
	got []push.Push
	err error
}

func (f *fakeStarter) Start(_ context.Context, ps []push.Push) (ingest.Response, error) {
	f.got = append(f.got, ps...)
	if f.err != nil {
		return ingest.Response{}, f.err
	}
	return ingest.Response{Status: ingest.StatusStarted, Execution: "arn:x"}, nil
}

type fakeRepo struct {
	commitErr, diffErr error
	files              []string
	complete           bool
}

func (f fakeRepo) Commit(_ context.Context, _, commit string) (push.Commit, error) {
	return push.Commit{ID: "ignored", Message: "fix [skip ci]", Author: "Mary <m@x>", Timestamp: time.Unix(1, 0).UTC()}, f.commitErr
}

func (f fakeRepo) Changed(context.Context, string, string, string, int) ([]string, bool, error) {
	return f.files, f.complete, f.diffErr
}

func TestHandler(t *testing.T) {
	for _, tc := range []struct {
		name         string
		ev           Event
		repo         Repository
		starterErr   error
		wantStatus   string
		wantErr      bool
		wantFiles    []string
		wantComplete bool
		wantMessage  string
	}{
		{name: "enriched", ev: event(nil), repo: fakeRepo{files: []string{"src/a.go"}, complete: true},
			wantStatus: "started", wantFiles: []string{"src/a.go"}, wantComplete: true, wantMessage: "fix [skip ci]"},
		{name: "no repository client", ev: event(nil), wantStatus: "started"},
		{name: "created ref: no files", ev: event(func(e *Event) { e.Detail.Event = ReferenceCreated }), repo: fakeRepo{files: []string{"x"}, complete: true},
			wantStatus: "started", wantMessage: "fix [skip ci]"},
		{name: "enrichment fails soft", ev: event(nil), repo: fakeRepo{commitErr: errors.New("throttled"), diffErr: errors.New("throttled")}, wantStatus: "started"},
		{name: "deleted", ev: event(func(e *Event) { e.Detail.Event = ReferenceDeleted }), wantStatus: "ignored"},
		{name: "step functions down", ev: event(nil), starterErr: ingest.ErrUnavailable, wantErr: true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			st := &fakeStarter{err: tc.starterErr}
			h := &Handler{Repository: tc.repo, Starter: st}
			resp, err := h.Handle(context.Background(), tc.ev)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr {
				if !errors.Is(err, ingest.ErrUnavailable) {
					t.Errorf("err %v does not wrap ErrUnavailable", err)
				}
				return
			}
			if resp.Status != tc.wantStatus {
				t.Fatalf("status %q, want %q", resp.Status, tc.wantStatus)
			}
			if tc.wantStatus != "started" {
				if len(st.got) != 0 {
					t.Errorf("started %v", st.got)
				}
				return
			}
			p := st.got[0]
			if d := cmp.Diff(tc.wantFiles, p.Files); d != "" || p.FilesComplete != tc.wantComplete {
				t.Errorf("files %v complete %v; want %v %v", p.Files, p.FilesComplete, tc.wantFiles, tc.wantComplete)
			}
			if p.HeadCommit.Message != tc.wantMessage || p.HeadCommit.ID != c1 {
				t.Errorf("head commit %+v", p.HeadCommit)
			}
		})
	}
}

func FuzzParse(f *testing.F) {
	if b, err := os.ReadFile("testdata/referenceUpdated.json"); err == nil {
		f.Add(b)
	}
	f.Add([]byte(`{"source":"aws.codecommit","detail-type":"CodeCommit Repository State Change","detail":{"event":"referenceDeleted"}}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		ev, err := Parse(b)
		if err != nil {
			if !errors.Is(err, ErrMalformed) {
				t.Fatalf("error %v is not ErrMalformed", err)
			}
			return
		}
		p, ignored := ToPush(ev)
		if ignored != "" {
			return
		}
		if p.Provider != push.CodeCommit || len(p.After) != 40 || !strings.HasPrefix(p.Ref, "refs/") || (p.Branch == "") == (p.Tag == "") {
			t.Fatalf("push %+v from %s", p, b)
		}
	})
}
