package codebuild

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestSecondarySources(t *testing.T) {
	h := newHarness(t)
	for key, files := range map[string]map[string]file{
		"app/exec1/Build.zip": {"dist/app.txt": {body: "built"}, "bin/run.sh": {body: "#!/bin/sh\necho ran\n", mode: 0o755}},
		"app/exec1/Lint.zip":  {"report.txt": {body: "clean"}},
	} {
		z := makeZip(t, files)
		h.objects.Put(context.Background(), "art", key, bytes.NewReader(z), int64(len(z)))
	}
	spec := `version: 0.2
phases:
  build:
    commands:
      - cat "$CODEBUILD_SRC_DIR_Build/dist/app.txt"; echo
      - cat "$CODEBUILD_SRC_DIR_Unit_Lint/report.txt"; echo
      - '"$CODEBUILD_SRC_DIR_Build/bin/run.sh"'
      - echo "under=${CODEBUILD_SRC_DIR_Build#${CODEBUILD_SRC_DIR%/src}/}"
`
	b, log := h.run(spec, nil, func(in *StartBuildInput) {
		in.SecondarySourcesOverride = []Source{
			{SourceIdentifier: "Build", Type: "S3", Location: "art/app/exec1/Build.zip"},
			{SourceIdentifier: "Unit_Lint", Type: "s3", Location: "arn:aws:s3:::art/app/exec1/Lint.zip"},
		}
	})
	if b.BuildStatus != StatusSucceeded {
		t.Fatalf("status %s\n%s", b.BuildStatus, log)
	}
	for _, want := range []string{"\nbuilt\n", "\nclean\n", "\nran\n", "\nunder=inputs/Build\n", "Secondary source Build unpacked"} {
		if !strings.Contains(log, want) {
			t.Errorf("log lacks %q:\n%s", want, log)
		}
	}
	want := []Source{
		{SourceIdentifier: "Build", Type: "S3", Location: "art/app/exec1/Build.zip"},
		{SourceIdentifier: "Unit_Lint", Type: "S3", Location: "arn:aws:s3:::art/app/exec1/Lint.zip"},
	}
	if diff := cmp.Diff(want, b.SecondarySources); diff != "" {
		t.Errorf("SecondarySources (-want +got):\n%s", diff)
	}
}

func TestSecondarySourceMissing(t *testing.T) {
	h := newHarness(t)
	spec := "version: 0.2\nphases:\n  install:\n    commands:\n      - echo install-ran\n"
	b, log := h.run(spec, nil, func(in *StartBuildInput) {
		in.SecondarySourcesOverride = []Source{{SourceIdentifier: "Build", Type: "S3", Location: "art/app/exec1/Build.zip"}}
	})
	want := []string{"SUBMITTED SUCCEEDED", "QUEUED SUCCEEDED", "PROVISIONING SUCCEEDED", "DOWNLOAD_SOURCE FAILED CLIENT_ERROR", "FINALIZING SUCCEEDED", "COMPLETED"}
	if diff := cmp.Diff(want, phaseSummary(b)); diff != "" {
		t.Errorf("phases (-want +got):\n%s", diff)
	}
	msg := b.Phases[3].Contexts[0].Message
	if msg != "secondary source Build: get source s3://art/app/exec1/Build.zip: NoSuchKey: art/app/exec1/Build.zip" {
		t.Errorf("message %q", msg)
	}
	if strings.Contains(log, "install-ran") {
		t.Errorf("a phase ran:\n%s", log)
	}
}

func TestSecondarySourceValidation(t *testing.T) {
	tests := []struct {
		name    string
		sources []Source
		want    string
	}{
		{"bad identifier", []Source{{SourceIdentifier: "my-build", Type: "S3", Location: "a/b.zip"}}, `sourceIdentifier "my-build"`},
		{"leading digit", []Source{{SourceIdentifier: "1st", Type: "S3", Location: "a/b.zip"}}, `sourceIdentifier "1st"`},
		{"repeated", []Source{{SourceIdentifier: "A", Type: "S3", Location: "a/b.zip"}, {SourceIdentifier: "A", Type: "S3", Location: "a/c.zip"}}, "repeated"},
		{"not S3", []Source{{SourceIdentifier: "A", Type: "GITHUB", Location: "a/b.zip"}}, `type "GITHUB"`},
		{"no key", []Source{{SourceIdentifier: "A", Type: "S3", Location: "bucket"}}, `location "bucket"`},
		{"too many", make([]Source, 13), "at most 12"},
	}
	h := newHarness(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := h.r.StartBuild(context.Background(), StartBuildInput{ProjectName: "Build", SourceLocationOverride: "art/x.zip", SecondarySourcesOverride: tc.sources})
			if !errors.Is(err, ErrInvalidInput) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err %v, want ErrInvalidInput containing %q", err, tc.want)
			}
		})
	}
}
