package stack

import (
	"net"
	"net/http"
	"sync"
	"sync/atomic"
	"syscall"
	"time"
)

// Slow clients: every connection must send its request headers within
// headerTimeout, and each endpoint gives its body and its answer the time
// it needs (withDeadlines); a server holds at most MaxConns connections,
// and when a new one arrives at the cap the oldest one that has had
// evictAge already is closed for it, so that a flood of connections that
// send nothing (or a byte a second) cannot keep /healthz, signed webhooks
// or the AWS endpoint from being served, nor exhaust the open files.
const (
	headerTimeout = 5 * time.Second
	idleTimeout   = 30 * time.Second
	evictAge      = time.Second
)

// Per-endpoint deadlines for reading the body and writing the answer
// (0: none).
const (
	smallBodyRead = 10 * time.Second // webhooks, approval forms, the AWS JSON APIs
	answerWrite   = 30 * time.Second
	objectIO      = 10 * time.Minute // S3 objects: artifacts up and down
)

// defaultMaxConns is the cap on each server's connections: a third of the
// open-file limit left after a reserve for the engine, builds and logs.
func defaultMaxConns() int {
	var rl syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &rl); err != nil {
		return 256
	}
	n := (int64(rl.Cur) - 256) / 3
	return int(max(min(n, 4096), 32))
}

// withDeadlines sets the request's body read and answer write deadlines
// (0 leaves one unset).
func withDeadlines(h http.Handler, read, write time.Duration) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rc := http.NewResponseController(w)
		now := time.Now()
		if read > 0 {
			_ = rc.SetReadDeadline(now.Add(read))
		}
		if write > 0 {
			_ = rc.SetWriteDeadline(now.Add(write))
		}
		h.ServeHTTP(w, r)
	})
}

// capListener caps the connections a server holds, evicting the oldest
// one (at least evictAge old) for a new one at the cap.
type capListener struct {
	net.Listener
	max     int
	mu      sync.Mutex
	conns   map[*capConn]struct{}
	evicted atomic.Int64
}

func newCapListener(ln net.Listener, max int) *capListener {
	return &capListener{Listener: ln, max: max, conns: map[*capConn]struct{}{}}
}

type capConn struct {
	net.Conn
	l        *capListener
	accepted time.Time
	once     sync.Once
}

func (c *capConn) Close() error {
	err := c.Conn.Close()
	c.once.Do(func() {
		c.l.mu.Lock()
		delete(c.l.conns, c)
		c.l.mu.Unlock()
	})
	return err
}

// Accept returns the next connection, making room for it at the cap; one
// that finds only young connections there is refused (closed).
func (l *capListener) Accept() (net.Conn, error) {
	for {
		c, err := l.Listener.Accept()
		if err != nil {
			return nil, err
		}
		now := time.Now()
		l.mu.Lock()
		if len(l.conns) >= l.max {
			var oldest *capConn
			for o := range l.conns {
				if oldest == nil || o.accepted.Before(oldest.accepted) {
					oldest = o
				}
			}
			if oldest == nil || now.Sub(oldest.accepted) < evictAge {
				l.mu.Unlock()
				c.Close()
				l.evicted.Add(1)
				continue
			}
			delete(l.conns, oldest)
			l.mu.Unlock()
			oldest.Conn.Close() // its server goroutine sees the error and ends
			l.evicted.Add(1)
			l.mu.Lock()
		}
		cc := &capConn{Conn: c, l: l, accepted: now}
		l.conns[cc] = struct{}{}
		l.mu.Unlock()
		return cc, nil
	}
}
