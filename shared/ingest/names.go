package ingest

import (
	"crypto/sha256"
	"encoding/hex"
	"strings"

	"github.com/pushline/pushline/shared/push"
)

// Name lengths (docs/ARCHITECTURE.md, "Execution input and names").
const (
	maxSlug      = 40
	commitLen    = 12
	refKeyLen    = 12
	suffixLength = 1 + refKeyLen
)

// RefKey identifies a pipeline's repository + ref:
// hex(sha256(pipeline + "\x00" + lower(repository) + "\x00" + ref))[:12].
func RefKey(pipeline, repository, ref string) string {
	h := sha256.New()
	h.Write([]byte(pipeline))
	h.Write([]byte{0})
	h.Write([]byte(strings.ToLower(repository)))
	h.Write([]byte{0})
	h.Write([]byte(ref))
	return hex.EncodeToString(h.Sum(nil))[:refKeyLen]
}

// ExecutionName is the deterministic execution name of a push:
// <slug(branch or tag), ≤ 40>-<commit[:12]>-<refkey>, at most 66
// characters of [A-Za-z0-9_-]; a pull request's run is named
// pr<number>-<commit[:12]>-<refkey> (its ref is the pull request's).
func ExecutionName(pipeline string, p push.Push) string {
	short := p.After
	if len(short) > commitLen {
		short = short[:commitLen]
	}
	slug := Slug(refShort(p))
	if p.PullRequest != nil {
		slug = prSlug(p.PullRequest)
	}
	return slug + "-" + Slug(short) + "-" + RefKey(pipeline, p.Repository, p.Ref)
}

// SameRef reports whether an execution name belongs to the same
// repository + ref as refKey (the -<refkey> suffix).
func SameRef(name, refKey string) bool {
	return len(name) > suffixLength && name[len(name)-suffixLength] == '-' && name[len(name)-refKeyLen:] == refKey
}

// commitOf returns the short commit encoded in an execution name, "" if
// it has none.
func commitOf(name string) string {
	if len(name) < 1+1+commitLen+suffixLength {
		return ""
	}
	end := len(name) - suffixLength
	return name[end-commitLen : end]
}

func refShort(p push.Push) string {
	switch {
	case p.Branch != "":
		return p.Branch
	case p.Tag != "":
		return p.Tag
	}
	return strings.TrimPrefix(p.Ref, "refs/")
}

// Slug maps s to at most 40 characters of [A-Za-z0-9_-]: other bytes
// become '-', runs of '-' collapse, and "ref" stands in for an empty
// result.
func Slug(s string) string {
	b := make([]byte, 0, min(len(s), maxSlug))
	dash := false
	for i := 0; i < len(s) && len(b) < maxSlug; i++ {
		c := s[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			b = append(b, c)
			dash = false
			continue
		}
		if !dash && len(b) > 0 {
			b = append(b, '-')
			dash = true
		}
	}
	for len(b) > 0 && b[len(b)-1] == '-' {
		b = b[:len(b)-1]
	}
	if len(b) == 0 {
		return "ref"
	}
	return string(b)
}

// ExecutionARN builds an execution's ARN from its state machine's ARN
// (arn:aws:states:R:A:stateMachine:M → arn:aws:states:R:A:execution:M:name).
func ExecutionARN(stateMachineARN, name string) string {
	parts := strings.SplitN(stateMachineARN, ":", 7)
	if len(parts) != 7 || parts[5] != "stateMachine" {
		return stateMachineARN + ":" + name
	}
	parts[5] = "execution"
	return strings.Join(parts, ":") + ":" + name
}

// StateMachineARN is the inverse of ExecutionARN: the state machine of an
// execution ARN, "" if arn is not one.
func StateMachineARN(executionARN string) string {
	parts := strings.Split(executionARN, ":")
	if len(parts) != 8 || parts[5] != "execution" {
		return ""
	}
	parts[5] = "stateMachine"
	return strings.Join(parts[:7], ":")
}

// nameOf returns the last segment of an execution ARN.
func nameOf(executionARN string) string {
	return executionARN[strings.LastIndexByte(executionARN, ':')+1:]
}
