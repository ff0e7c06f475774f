package sdk

import (
	"io"
	"net"
	"os"
	"syscall"
	"unsafe"
)

// rawConn is a fast-path connection whose reads and writes are raw system
// calls on its non-blocking socket, parked on the runtime's network poller
// when the socket is not ready, as net.Conn's are.
//
// Why: net.Conn's Read and Write enter the kernel through the runtime's
// syscall entry, which wakes the runtime's monitor thread (sysmon) if it
// sleeps because every P of the process was idle, and a monitor woken
// that way polls every 20µs for the next millisecond or more. A plugin
// process goes idle at every call it makes or waits for, so each of a
// training step's calls set the monitors of both processes polling: at
// the reference model's size on one thread, the architecture's monitor
// ran 2.6 ms of CPU a step and the attention's 1.7, each wake-up a
// context switch that preempted a kernel on a two-core machine. Plugins
// with raw reads and writes took 0.935 and 0.925 times as long a step
// (medians of alternating rounds, two runs). A read or write on a
// non-blocking socket never blocks, which is what the syscall entry is
// for, so skipping it loses nothing.
type rawConn struct {
	net.Conn
	rc syscall.RawConn
}

// newRawConn wraps c, or returns c itself when it exposes no raw
// connection.
func newRawConn(c net.Conn) net.Conn {
	sc, ok := c.(syscall.Conn)
	if !ok {
		return c
	}
	rc, err := sc.SyscallConn()
	if err != nil {
		return c
	}
	return &rawConn{Conn: c, rc: rc}
}

func (c *rawConn) Read(p []byte) (int, error) {
	if len(p) == 0 {
		return 0, nil
	}
	var n int
	var errno syscall.Errno
	err := c.rc.Read(func(fd uintptr) bool {
		for {
			r, _, e := syscall.RawSyscall(syscall.SYS_READ, fd, uintptr(unsafe.Pointer(&p[0])), uintptr(len(p)))
			switch e {
			case syscall.EINTR:
				continue
			case syscall.EAGAIN:
				return false // wait until readable (or the deadline)
			}
			n, errno = int(r), e
			return true
		}
	})
	switch {
	case err != nil:
		return 0, err
	case errno != 0:
		return 0, os.NewSyscallError("read", errno)
	case n == 0:
		return 0, io.EOF
	}
	return n, nil
}

func (c *rawConn) Write(p []byte) (int, error) {
	done := 0
	var errno syscall.Errno
	for done < len(p) {
		err := c.rc.Write(func(fd uintptr) bool {
			for done < len(p) {
				r, _, e := syscall.RawSyscall(syscall.SYS_WRITE, fd, uintptr(unsafe.Pointer(&p[done])), uintptr(len(p)-done))
				switch e {
				case 0:
					done += int(r)
					continue
				case syscall.EINTR:
					continue
				case syscall.EAGAIN:
					return false // wait until writable (or the deadline)
				}
				errno = e
				return true
			}
			return true
		})
		if err != nil {
			return done, err
		}
		if errno != 0 {
			return done, os.NewSyscallError("write", errno)
		}
	}
	return done, nil
}
