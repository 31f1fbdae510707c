package stack

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"fmt"
	"net"
	"net/http"
)

// The stack's own AWS clients (the approval pages, watch, ingest, the run
// pages, statuses, the Lambda functions) reach the AWS endpoint through a
// listener of their own on the loopback address, each request carrying a
// token that lives only in this process's memory: the endpoint so knows
// them from anything else on the network, builds included, and answers
// task tokens only for them (awsapi.go). A build in the sandbox cannot
// read the stack's memory (its own PID namespace, no capabilities).

// trustHeader carries the token.
const trustHeader = "X-Pushline-Local"

// localListener is the loopback listener of the stack's own clients.
type localListener struct {
	net.Listener
	token string
}

func newLocalListener() (*localListener, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, fmt.Errorf("listen for the stack's own AWS clients: %w", err)
	}
	b := make([]byte, 32)
	rand.Read(b)
	return &localListener{Listener: ln, token: hex.EncodeToString(b)}, nil
}

// guard answers 403 to a request without the token.
func (l *localListener) guard(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if subtle.ConstantTimeCompare([]byte(r.Header.Get(trustHeader)), []byte(l.token)) != 1 {
			http.Error(w, "forbidden", http.StatusForbidden)
			return
		}
		r.Header.Del(trustHeader)
		h.ServeHTTP(w, r)
	})
}

// client is an HTTP client whose every request goes to the listener with
// the token (the URL's host only names the endpoint, e.g. in presigned
// URLs).
func (l *localListener) client() *http.Client {
	addr := l.Addr().String()
	var d net.Dialer
	return &http.Client{Transport: tokenTransport{token: l.token, next: &http.Transport{
		DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
			return d.DialContext(ctx, network, addr)
		},
		MaxIdleConnsPerHost: 64, IdleConnTimeout: idleTimeout, DisableCompression: true,
	}}}
}

// tokenTransport adds the token to every request.
type tokenTransport struct {
	token string
	next  http.RoundTripper
}

func (t tokenTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set(trustHeader, t.token)
	return t.next.RoundTrip(r)
}
