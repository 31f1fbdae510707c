package runpage

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pushline/pushline/shared/run"
)

// Link errors.
var (
	ErrForged  = errors.New("run link signature invalid")
	ErrExpired = errors.New("run link expired")
)

// Query parameters of a signed link.
const (
	paramExpires  = "e"
	paramOperator = "o"
	paramSig      = "s"
)

// ConsoleScope is the scope of an operator link to the console (every
// run).
const ConsoleScope = "*"

// DefaultTTL is how long a read-only link lasts; OperatorTTL an operator
// link.
const (
	DefaultTTL  = 30 * 24 * time.Hour
	OperatorTTL = time.Hour
)

// access is what a request may do.
type access struct {
	scope    string // the run base name the link covers, or ConsoleScope
	operator string // who, for an operator link
	expires  string // unix seconds, as signed
	query    string // the link's query ("?e=…&s=…"), for links within the page
}

func (a access) canAct() bool { return a.operator != "" }

func mac(key []byte, label string, fields ...string) []byte {
	h := hmac.New(sha256.New, key)
	h.Write([]byte("pushline-run-v1:" + label))
	for _, f := range fields {
		h.Write([]byte{0})
		h.Write([]byte(strconv.Itoa(len(f))))
		h.Write([]byte{0})
		h.Write([]byte(f))
	}
	return h.Sum(nil)
}

func sign(key []byte, scope, operator string, expires time.Time) url.Values {
	exp := strconv.FormatInt(expires.Unix(), 10)
	q := url.Values{paramExpires: {exp}, paramSig: {base64.RawURLEncoding.EncodeToString(mac(key, "link", scope, operator, exp))}}
	if operator != "" {
		q.Set(paramOperator, operator)
	}
	return q
}

// execName is the execution name of an ARN (or the name itself).
func execName(execution string) string {
	return execution[strings.LastIndexByte(execution, ':')+1:]
}

// Links returns a function giving the signed read-only link (SignedURL,
// DefaultTTL, from now) to an execution's run page under base; with no
// base it links nothing ("").
func Links(base string, key []byte) func(execution string) string {
	base = strings.TrimRight(base, "/")
	return func(execution string) string {
		if base == "" {
			return ""
		}
		return SignedURL(base, key, execution, 0, time.Now())
	}
}

// SignedURL is the read-only link to the run page of execution (a name
// or ARN) under base (PUSHLINE_PUBLIC_URL), valid for ttl (DefaultTTL
// when 0). It also shows the other attempts of the same push.
func SignedURL(base string, key []byte, execution string, ttl time.Duration, now time.Time) string {
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	name := execName(execution)
	scope, _ := run.Base(name)
	return strings.TrimRight(base, "/") + "/runs/" + name + "?" + sign(key, scope, "", now.Add(ttl)).Encode()
}

// OperatorURL is a link that also allows Retry and Rerun, as operator
// (who: an IAM ARN, a user name), valid for ttl (OperatorTTL when 0).
// With execution "" it opens the console (every run).
func OperatorURL(base string, key []byte, execution, operator string, ttl time.Duration, now time.Time) string {
	if ttl <= 0 {
		ttl = OperatorTTL
	}
	base = strings.TrimRight(base, "/")
	if execution == "" {
		return base + "/?" + sign(key, ConsoleScope, operator, now.Add(ttl)).Encode()
	}
	name := execName(execution)
	scope, _ := run.Base(name)
	return base + "/runs/" + name + "?" + sign(key, scope, operator, now.Add(ttl)).Encode()
}

// verify checks a request's link for a run base name (or ConsoleScope).
func verify(key []byte, scope string, q url.Values, now time.Time) (access, error) {
	one := func(k string) (string, bool) {
		v := q[k]
		return strings.Join(v, ""), len(v) == 1
	}
	exp, ok1 := one(paramExpires)
	sig, ok2 := one(paramSig)
	op := ""
	if v, ok := q[paramOperator]; ok {
		if len(v) != 1 || v[0] == "" {
			return access{}, ErrForged
		}
		op = v[0]
	}
	if !ok1 || !ok2 {
		return access{}, ErrForged
	}
	got, err := base64.RawURLEncoding.DecodeString(sig)
	if err != nil {
		return access{}, ErrForged
	}
	// An operator link to the console covers every run.
	scopes := []string{scope}
	if op != "" && scope != ConsoleScope {
		scopes = append(scopes, ConsoleScope)
	}
	matched := ""
	for _, s := range scopes {
		if hmac.Equal(got, mac(key, "link", s, op, exp)) {
			matched = s
			break
		}
	}
	if matched == "" {
		return access{}, ErrForged
	}
	secs, err := strconv.ParseInt(exp, 10, 64)
	if err != nil {
		return access{}, ErrForged
	}
	if !now.Before(time.Unix(secs, 0)) {
		return access{}, ErrExpired
	}
	kept := url.Values{paramExpires: {exp}, paramSig: {sig}}
	if op != "" {
		kept.Set(paramOperator, op)
	}
	return access{scope: matched, operator: op, expires: exp, query: "?" + kept.Encode()}, nil
}

// formToken is the anti-CSRF token of a run's forms for a.
func formToken(key []byte, name string, a access) string {
	return base64.RawURLEncoding.EncodeToString(mac(key, "form", name, a.scope, a.operator, a.expires))
}

func checkFormToken(key []byte, name string, a access, tok string) bool {
	got, err := base64.RawURLEncoding.DecodeString(tok)
	return err == nil && hmac.Equal(got, mac(key, "form", name, a.scope, a.operator, a.expires))
}
