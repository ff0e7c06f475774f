package sdk

import (
	"bytes"
	"errors"
	"io"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// rawPair returns the two ends of a Unix socket connection, each wrapped
// by newRawConn.
func rawPair(t *testing.T) (a, b net.Conn) {
	t.Helper()
	l, err := net.Listen("unix", filepath.Join(t.TempDir(), "s.sock"))
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	done := make(chan net.Conn, 1)
	go func() {
		c, err := l.Accept()
		if err != nil {
			t.Error(err)
		}
		done <- c
	}()
	c, err := net.Dial("unix", l.Addr().String())
	if err != nil {
		t.Fatal(err)
	}
	s := <-done
	if s == nil {
		t.FailNow()
	}
	a, b = newRawConn(c), newRawConn(s)
	if _, ok := a.(*rawConn); !ok {
		t.Fatalf("newRawConn(%T) did not wrap it", c)
	}
	t.Cleanup(func() { a.Close(); b.Close() })
	return a, b
}

// A raw connection moves every byte of a message larger than the
// socket's buffers (so writes wait for the reader), honours read
// deadlines as net.Conn does, and reports the peer's close as io.EOF.
func TestRawConn(t *testing.T) {
	a, b := rawPair(t)
	msg := make([]byte, 8<<20)
	for i := range msg {
		msg[i] = byte(i*7 + i>>11)
	}
	errc := make(chan error, 1)
	go func() {
		n, err := a.Write(msg)
		if err == nil && n != len(msg) {
			err = errors.New("short write")
		}
		errc <- err
	}()
	got := make([]byte, len(msg))
	if _, err := io.ReadFull(b, got); err != nil {
		t.Fatal(err)
	}
	if err := <-errc; err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(got, msg) {
		t.Fatal("the bytes read differ from those written")
	}

	b.SetReadDeadline(time.Now().Add(20 * time.Millisecond))
	if _, err := b.Read(got[:1]); !errors.Is(err, os.ErrDeadlineExceeded) {
		t.Fatalf("read past its deadline: %v, want %v", err, os.ErrDeadlineExceeded)
	}
	b.SetReadDeadline(time.Time{})

	a.Close()
	if n, err := b.Read(got[:1]); n != 0 || err != io.EOF {
		t.Fatalf("read after the peer closed: %d, %v; want 0, EOF", n, err)
	}
	if _, err := a.Write(msg[:10]); err == nil {
		t.Fatal("write on a closed connection succeeded")
	}
}
