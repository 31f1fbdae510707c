package stack

import (
	"io"
	"net"
	"testing"
	"time"
)

// TestCapListener: at the cap a new connection takes the place of the
// oldest one that is at least evictAge old, and is refused while all are
// younger.
func TestCapListener(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	cl := newCapListener(ln, 2)
	defer cl.Close()
	accepted := make(chan net.Conn, 8)
	go func() {
		for {
			c, err := cl.Accept()
			if err != nil {
				return
			}
			accepted <- c
		}
	}()
	dial := func() net.Conn {
		t.Helper()
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { c.Close() })
		return c
	}
	closed := func(c net.Conn) bool {
		c.SetReadDeadline(time.Now().Add(2 * time.Second))
		_, err := c.Read(make([]byte, 1))
		return err == io.EOF || err != nil && !isTimeout(err)
	}
	first, second := dial(), dial()
	<-accepted
	<-accepted
	young := dial() // both held connections are younger than evictAge
	if !closed(young) {
		t.Fatal("a connection over the cap was held although every other one is young")
	}
	time.Sleep(evictAge + 100*time.Millisecond)
	third := dial()
	<-accepted
	if !closed(first) {
		t.Error("the oldest connection was not closed for the new one")
	}
	if cl.evicted.Load() != 2 {
		t.Errorf("evicted %d, want 2", cl.evicted.Load())
	}
	_ = second
	_ = third
}

func isTimeout(err error) bool {
	ne, ok := err.(net.Error)
	return ok && ne.Timeout()
}
