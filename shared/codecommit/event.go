package codecommit

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/push"
)

// The event CodeCommit emits when a reference changes.
const (
	Source     = "aws.codecommit"
	DetailType = "CodeCommit Repository State Change"
)

// Reference events.
const (
	ReferenceCreated = "referenceCreated"
	ReferenceUpdated = "referenceUpdated"
	ReferenceDeleted = "referenceDeleted"
)

// Event is an EventBridge event as delivered to a target.
type Event struct {
	Version    string    `json:"version"`
	ID         string    `json:"id"`
	DetailType string    `json:"detail-type"`
	Source     string    `json:"source"`
	Account    string    `json:"account"`
	Time       time.Time `json:"time"`
	Region     string    `json:"region"`
	Resources  []string  `json:"resources"`
	Detail     Detail    `json:"detail"`
}

// Detail is a Repository State Change's detail.
type Detail struct {
	CallerUserArn     string `json:"callerUserArn,omitempty"`
	CommitID          string `json:"commitId,omitempty"`
	OldCommitID       string `json:"oldCommitId,omitempty"`
	Event             string `json:"event"`
	ReferenceFullName string `json:"referenceFullName"`
	ReferenceName     string `json:"referenceName"`
	ReferenceType     string `json:"referenceType"` // branch or tag
	RepositoryID      string `json:"repositoryId,omitempty"`
	RepositoryName    string `json:"repositoryName"`
	// Set when a merge through the console or API moved the reference.
	BaseCommitID        string `json:"baseCommitId,omitempty"`
	DestinationCommitID string `json:"destinationCommitId,omitempty"`
	MergeOption         string `json:"mergeOption,omitempty"`
	SourceCommitID      string `json:"sourceCommitId,omitempty"`
}

// ErrMalformed: the event is not JSON of an EventBridge event.
var ErrMalformed = errors.New("malformed CodeCommit event")

// Parse decodes an EventBridge event.
func Parse(body []byte) (Event, error) {
	var ev Event
	if err := json.Unmarshal(body, &ev); err != nil {
		return Event{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	return ev, nil
}

// ToPush maps a reference event to the push it stands for, without the
// head commit's details and files (see Handler). A non-empty ignored says
// why the event starts nothing.
func ToPush(ev Event) (p push.Push, ignored string) {
	d := ev.Detail
	switch {
	case ev.Source != Source || ev.DetailType != DetailType:
		return p, fmt.Sprintf("not a CodeCommit reference change (%s / %s)", ev.Source, ev.DetailType)
	case d.Event == ReferenceDeleted:
		return p, "reference deleted"
	case d.Event != ReferenceCreated && d.Event != ReferenceUpdated:
		return p, fmt.Sprintf("unsupported CodeCommit event %q", d.Event)
	case d.RepositoryName == "":
		return p, "the event names no repository"
	case !isCommit(d.CommitID):
		return p, fmt.Sprintf("the event's commitId %q is not a commit id", d.CommitID)
	}
	p = push.Push{
		Provider:   push.CodeCommit,
		Repository: d.RepositoryName,
		CloneURL:   CloneURL(ev.Region, d.RepositoryName),
		WebURL:     WebURL(ev.Region, d.RepositoryName),
		After:      d.CommitID,
		Before:     push.ZeroCommit,
		Pusher:     d.CallerUserArn,
		HeadCommit: push.Commit{ID: d.CommitID},
		DeliveryID: ev.ID,
	}
	if d.Event == ReferenceUpdated && isCommit(d.OldCommitID) {
		p.Before = d.OldCommitID
	}
	switch d.ReferenceType {
	case "branch":
		p.Branch = d.ReferenceName
		p.Ref = fullName(d, "refs/heads/")
	case "tag":
		p.Tag = d.ReferenceName
		p.Ref = fullName(d, "refs/tags/")
	default:
		return push.Push{}, fmt.Sprintf("unsupported reference type %q", d.ReferenceType)
	}
	if p.Branch == "" && p.Tag == "" {
		return push.Push{}, "the event names no reference"
	}
	return p, ""
}

func fullName(d Detail, prefix string) string {
	if strings.HasPrefix(d.ReferenceFullName, prefix) {
		return d.ReferenceFullName
	}
	return prefix + d.ReferenceName
}

func isCommit(s string) bool {
	if len(s) != 40 || s == push.ZeroCommit {
		return false
	}
	for _, c := range s {
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f') {
			return false
		}
	}
	return true
}

// CloneURL is a repository's HTTPS clone URL.
func CloneURL(region, repository string) string {
	if region == "" {
		region = "us-east-1"
	}
	return "https://git-codecommit." + region + ".amazonaws.com/v1/repos/" + repository
}

// WebURL is a repository's console page.
func WebURL(region, repository string) string {
	if region == "" {
		region = "us-east-1"
	}
	return "https://" + region + ".console.aws.amazon.com/codesuite/codecommit/repositories/" + repository + "/browse?region=" + region
}
