package stack

import (
	"context"
	"net"
	"net/http"
	"sync"
)

// The stack's own AWS clients (the approval pages, watch, ingest, the run
// pages, statuses, the Lambda functions) reach the AWS endpoint over
// in-memory connections, never over TCP: the endpoint so knows them from
// anything on the network, builds included, and answers task tokens only
// for them (awsapi.go).

// pipeListener is a net.Listener of in-memory connections (net.Pipe),
// dialled by the in-process clients' transport.
type pipeListener struct {
	conns chan net.Conn
	done  chan struct{}
	once  sync.Once
}

func newPipeListener() *pipeListener {
	return &pipeListener{conns: make(chan net.Conn), done: make(chan struct{})}
}

// Accept returns the next in-memory connection.
func (l *pipeListener) Accept() (net.Conn, error) {
	select {
	case c := <-l.conns:
		return c, nil
	case <-l.done:
		return nil, net.ErrClosed
	}
}

// Close stops the listener: dials fail from then on.
func (l *pipeListener) Close() error {
	l.once.Do(func() { close(l.done) })
	return nil
}

func (l *pipeListener) Addr() net.Addr { return pipeAddr{} }

// dial connects to the listener, whatever the address asked for.
func (l *pipeListener) dial(ctx context.Context, _, _ string) (net.Conn, error) {
	client, server := net.Pipe()
	var err error
	select {
	case l.conns <- server:
		return client, nil
	case <-l.done:
		err = net.ErrClosed
	case <-ctx.Done():
		err = ctx.Err()
	}
	client.Close()
	server.Close()
	return nil, err
}

// client is an HTTP client whose every request goes to the listener's
// server (the URL's host only names the endpoint, e.g. in presigned URLs).
func (l *pipeListener) client() *http.Client {
	return &http.Client{Transport: &http.Transport{
		DialContext: l.dial, MaxIdleConnsPerHost: 64, IdleConnTimeout: idleTimeout, DisableCompression: true,
	}}
}

type pipeAddr struct{}

func (pipeAddr) Network() string { return "pipe" }
func (pipeAddr) String() string  { return "in-process" }
