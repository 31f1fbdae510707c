package approval

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// Link errors.
var (
	ErrForged  = errors.New("link signature invalid") // missing, malformed or tampered
	ErrExpired = errors.New("link expired")
)

// Link is what a signed approval link carries.
type Link struct {
	ID       string
	Approver string
	Expires  time.Time // second precision
}

// Signer signs and verifies approval links with an HMAC-SHA256 key.
type Signer struct {
	key []byte
}

// NewSigner returns a Signer with key (at least 16 bytes).
func NewSigner(key []byte) (*Signer, error) {
	if len(key) < 16 {
		return nil, errors.New("approval key: at least 16 bytes needed")
	}
	return &Signer{key: append([]byte(nil), key...)}, nil
}

// Query parameters of a link.
const (
	paramApprover = "a"
	paramExpires  = "e"
	paramSig      = "s"
)

// URL returns the link of l under base (PUSHLINE_APPROVAL_URL):
// <base>/approvals/<id>?a=<approver>&e=<unix seconds>&s=<signature>.
func (s *Signer) URL(base string, l Link) string {
	return strings.TrimRight(base, "/") + "/approvals/" + l.ID + "?" + s.Query(l).Encode()
}

// Query returns the signed query of l.
func (s *Signer) Query(l Link) url.Values {
	exp := strconv.FormatInt(l.Expires.Unix(), 10)
	return url.Values{
		paramApprover: {l.Approver},
		paramExpires:  {exp},
		paramSig:      {base64.RawURLEncoding.EncodeToString(s.mac("link", l.ID, l.Approver, exp))},
	}
}

// Verify checks a link's id and query at time now: ErrForged if anything
// is missing, malformed, repeated or not signed by this key; ErrExpired
// if it is authentic but past its expiry. The signature is checked first,
// so a tampered expiry is ErrForged.
func (s *Signer) Verify(id string, q url.Values, now time.Time) (Link, error) {
	one := func(k string) (string, bool) {
		v := q[k]
		return strings.Join(v, ""), len(v) == 1
	}
	approver, ok1 := one(paramApprover)
	exp, ok2 := one(paramExpires)
	sig, ok3 := one(paramSig)
	if !ok1 || !ok2 || !ok3 || !ValidID(id) || approver == "" {
		return Link{}, ErrForged
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil || !hmac.Equal(got, s.mac("link", id, approver, exp)) {
		return Link{}, ErrForged
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil { // cannot happen for a link we signed
		return Link{}, ErrForged
	}
	l := Link{ID: id, Approver: approver, Expires: time.Unix(secs, 0).UTC()}
	if !now.Before(l.Expires) {
		return l, ErrExpired
	}
	return l, nil
}

// FormToken returns the anti-CSRF token of l's form: a MAC of the link
// under a different label, so only someone who has loaded the page (and
// so holds the link) can post it.
func (s *Signer) FormToken(l Link) string {
	exp := strconv.FormatInt(l.Expires.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString(s.mac("form", l.ID, l.Approver, exp))
}

// CheckFormToken reports whether tok is l's form token.
func (s *Signer) CheckFormToken(l Link, tok string) bool {
	got, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return false
	}
	exp := strconv.FormatInt(l.Expires.Unix(), 10)
	return hmac.Equal(got, s.mac("form", l.ID, l.Approver, exp))
}

// mac is HMAC-SHA256 over the label and fields, each length-prefixed so
// that no two field lists share an input.
func (s *Signer) mac(label string, fields ...string) []byte {
	h := hmac.New(sha256.New, s.key)
	h.Write([]byte("pushline-approval-v1:" + label))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}
