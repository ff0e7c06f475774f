package sdk

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/attnlab/attnlab/kernels/parallel"
	pb "github.com/attnlab/attnlab/plugins/proto/v1"
)

// The fast path (service FastPath in attnlab.proto) carries a component's
// unary calls over a Unix socket of its own, one frame each way, instead
// of through go-plugin's gRPC connection: a gRPC call here hands the
// message between four goroutines on its way out and back, and on a
// two-core machine each hand-off may wait for a sleeping CPU. Descriptors
// and tensors are the same either way (the messages are the protocol's
// messages), the server runs the same handlers with the same panic
// recovery, and deadlines and cancellation are honoured the same way, so
// nothing above this file can tell the difference. gRPC remains the
// control plane: the handshake, Describe and Init, health checks and
// plugin logs go through it, and any call finding the fast path busy (a
// second concurrent caller) takes gRPC instead.

// maxFrame bounds a frame's length, so that a corrupt length prefix fails
// the call instead of allocating gigabytes. The protocol's messages are
// descriptors of a few hundred bytes; 64 MiB is far beyond any of them.
const maxFrame = 64 << 20

// fastServer serves the fast path in a plugin process: every unary method
// registered with register, dispatched by its gRPC full name.
type fastServer struct {
	pb.UnimplementedFastPathServer

	// methods is filled by register before the gRPC server starts and
	// only read afterwards, so calls look methods up without a lock.
	methods map[string]fastMethod

	mu       sync.Mutex // guards the listener
	listener net.Listener
	dir      string
}

type fastMethod struct {
	srv any
	h   grpc.MethodHandler
}

func newFastServer() *fastServer { return &fastServer{methods: map[string]fastMethod{}} }

// register makes desc's unary methods, implemented by srv, callable
// through the fast path.
func (f *fastServer) register(desc *grpc.ServiceDesc, srv any) {
	for _, m := range desc.Methods {
		f.methods["/"+desc.ServiceName+"/"+m.MethodName] = fastMethod{srv: srv, h: m.Handler}
	}
}

// Open starts the fast path's listener in the trial directory the caller
// names (once; later calls return the same address) and returns where it
// listens.
func (f *fastServer) Open(_ context.Context, r *pb.FastPathRequest) (*pb.FastPathEndpoint, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	dir := r.GetDir()
	if dir == "" {
		return nil, status.Error(codes.InvalidArgument, "FastPath.Open needs the trial's directory")
	}
	if f.listener == nil {
		path := filepath.Join(dir, fmt.Sprintf("fast-%d.sock", os.Getpid()))
		l, err := net.Listen("unix", path)
		if err != nil {
			return nil, status.Errorf(codes.Unavailable, "fast path: %v", err)
		}
		f.listener, f.dir = l, dir
		go f.accept(l)
	} else if dir != f.dir {
		return nil, status.Errorf(codes.FailedPrecondition, "fast path already open in %s, asked for %s", f.dir, dir)
	}
	return &pb.FastPathEndpoint{Network: "unix", Address: f.listener.Addr().String()}, nil
}

func (f *fastServer) accept(l net.Listener) {
	for {
		c, err := l.Accept()
		if err != nil {
			return
		}
		go f.serve(newRawConn(c))
	}
}

// serve answers one connection's calls in order, on this goroutine. A
// malformed frame closes the connection: the caller sees its call fail
// with the connection, never a misread message.
func (f *fastServer) serve(c net.Conn) {
	defer c.Close()
	var buf, out []byte
	for {
		var err error
		buf, err = readFrame(c, buf)
		if err != nil {
			if !errors.Is(err, io.EOF) {
				Logger().Warn("fast path: closing connection", "error", err)
			}
			return
		}
		// A call has come: this process's kernel workers start waking
		// now, while the request is decoded, not at the handler's first
		// parallel job.
		parallel.Wake()
		method, timeout, msg, err := parseRequest(buf)
		if err != nil {
			Logger().Warn("fast path: closing connection", "error", err)
			return
		}
		out = f.call(out[:0], method, timeout, msg)
		// The reply ends this process's work until the next call: its
		// kernel workers park now instead of polling while the caller
		// (or the next component) needs the cores.
		parallel.Idle()
		if _, err := c.Write(out); err != nil {
			return
		}
	}
}

// call runs one method and appends its reply frame to out.
func (f *fastServer) call(out []byte, method string, timeout time.Duration, msg []byte) []byte {
	m, ok := f.methods[method]
	if !ok {
		return replyErr(out, codes.Unimplemented, fmt.Sprintf("fast path: unknown method %q", method))
	}
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if timeout > 0 {
		ctx, cancel = context.WithTimeout(ctx, timeout)
	}
	defer cancel()
	dec := func(v any) error {
		pm, ok := v.(proto.Message)
		if !ok {
			return fmt.Errorf("fast path: %T is not a protocol message", v)
		}
		return proto.Unmarshal(msg, pm)
	}
	resp, err := m.h(m.srv, ctx, dec, recoverPanics)
	if err != nil {
		st, _ := status.FromError(err)
		return replyErr(out, st.Code(), st.Message())
	}
	pm, ok := resp.(proto.Message)
	if !ok {
		return replyErr(out, codes.Internal, fmt.Sprintf("fast path: %s returned %T", method, resp))
	}
	start := len(out)
	out = append(out, 0, 0, 0, 0, 0, 0, 0, 0)
	out, err = proto.MarshalOptions{}.MarshalAppend(out, pm)
	if err != nil {
		return replyErr(out[:start], codes.Internal, "fast path: "+err.Error())
	}
	binary.LittleEndian.PutUint32(out[start:], uint32(len(out)-start-4))
	binary.LittleEndian.PutUint32(out[start+4:], uint32(codes.OK))
	return out
}

func replyErr(out []byte, code codes.Code, msg string) []byte {
	if code == codes.OK {
		code = codes.Unknown
	}
	out = binary.LittleEndian.AppendUint32(out, uint32(4+len(msg)))
	out = binary.LittleEndian.AppendUint32(out, uint32(code))
	return append(out, msg...)
}

// readFrame reads one length-prefixed frame into buf (grown as needed)
// and returns it without the prefix.
func readFrame(r io.Reader, buf []byte) ([]byte, error) {
	var hdr [4]byte
	if _, err := io.ReadFull(r, hdr[:]); err != nil {
		return buf, err
	}
	n := binary.LittleEndian.Uint32(hdr[:])
	if n > maxFrame {
		return buf, fmt.Errorf("frame of %d bytes is longer than the %d allowed", n, maxFrame)
	}
	if cap(buf) < int(n) {
		buf = make([]byte, n)
	}
	buf = buf[:n]
	if _, err := io.ReadFull(r, buf); err != nil {
		if errors.Is(err, io.EOF) {
			err = io.ErrUnexpectedEOF
		}
		return buf, err
	}
	return buf, nil
}

func parseRequest(b []byte) (method string, timeout time.Duration, msg []byte, err error) {
	if len(b) < 2 {
		return "", 0, nil, fmt.Errorf("request frame of %d bytes has no method", len(b))
	}
	n := int(binary.LittleEndian.Uint16(b))
	if len(b) < 2+n+8 {
		return "", 0, nil, fmt.Errorf("request frame of %d bytes is too short for a %d-byte method name and a timeout", len(b), n)
	}
	method = string(b[2 : 2+n])
	timeout = time.Duration(binary.LittleEndian.Uint64(b[2+n:]))
	if timeout < 0 {
		return "", 0, nil, fmt.Errorf("request for %s has negative timeout %d", method, timeout)
	}
	return method, timeout, b[2+n+8:], nil
}

// fastConn is the client side: a grpc.ClientConnInterface that the
// generated clients call. It opens the fast path on the first call that
// is not Describe or Init (by then the plugin has its trial directory)
// and sends every later unary call through it; when the plugin does not
// offer one, or a call is already in flight, the call goes through gRPC.
type fastConn struct {
	grpc grpc.ClientConnInterface
	dir  string

	mu     sync.Mutex // held for a call on the fast path
	opened bool
	conn   net.Conn
	broken error // set when a call left the connection unusable
	// fastCalls counts the calls that took the fast path (for tests).
	fastCalls int
	out       []byte
	in        []byte
}

func newFastConn(c grpc.ClientConnInterface, dir string) *fastConn {
	return &fastConn{grpc: c, dir: dir}
}

func (f *fastConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return f.grpc.NewStream(ctx, desc, method, opts...)
}

func (f *fastConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	// This process waits from here until the reply: its kernel workers
	// need not poll for work meanwhile.
	parallel.Idle()
	if strings.HasSuffix(method, "/Describe") || strings.HasSuffix(method, "/Init") || !f.mu.TryLock() {
		return f.grpc.Invoke(ctx, method, args, reply, opts...)
	}
	defer f.mu.Unlock()
	if !f.opened {
		f.opened = true
		f.open(ctx)
	}
	if f.broken != nil {
		return status.Error(codes.Unavailable, f.broken.Error())
	}
	if f.conn == nil {
		return f.grpc.Invoke(ctx, method, args, reply, opts...)
	}
	f.fastCalls++
	return f.invoke(ctx, method, args, reply)
}

// open asks the plugin for its fast path and connects to it. Any failure
// leaves the client on gRPC, which is slower but equivalent.
func (f *fastConn) open(ctx context.Context) {
	if f.dir == "" {
		return
	}
	ep, err := pb.NewFastPathClient(f.grpc).Open(ctx, &pb.FastPathRequest{Dir: f.dir})
	if err != nil {
		if status.Code(err) != codes.Unimplemented {
			Logger().Warn("fast path unavailable; calling through gRPC", "error", err)
		}
		return
	}
	c, err := net.Dial(ep.GetNetwork(), ep.GetAddress())
	if err != nil {
		Logger().Warn("fast path unavailable; calling through gRPC", "error", err)
		return
	}
	f.conn = newRawConn(c)
}

func (f *fastConn) invoke(ctx context.Context, method string, args, reply any) error {
	req, ok := args.(proto.Message)
	rep, ok2 := reply.(proto.Message)
	if !ok || !ok2 {
		return status.Errorf(codes.Internal, "fast path: %s with %T -> %T, not protocol messages", method, args, reply)
	}
	var timeout time.Duration
	deadline, hasDeadline := ctx.Deadline()
	if hasDeadline {
		if timeout = time.Until(deadline); timeout <= 0 {
			return status.Error(codes.DeadlineExceeded, context.DeadlineExceeded.Error())
		}
	}
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	out := append(f.out[:0], 0, 0, 0, 0)
	out = binary.LittleEndian.AppendUint16(out, uint16(len(method)))
	out = append(out, method...)
	out = binary.LittleEndian.AppendUint64(out, uint64(timeout))
	out, err := proto.MarshalOptions{}.MarshalAppend(out, req)
	if err != nil {
		return status.Errorf(codes.Internal, "fast path: encoding %s: %v", method, err)
	}
	binary.LittleEndian.PutUint32(out, uint32(len(out)-4))
	f.out = out

	// A deadline or a cancellation interrupts the blocking read and write.
	if hasDeadline {
		f.conn.SetDeadline(deadline)
	} else {
		f.conn.SetDeadline(time.Time{})
	}
	stop := context.AfterFunc(ctx, func() { f.conn.SetDeadline(time.Unix(1, 0)) })
	_, err = f.conn.Write(out)
	if err == nil {
		f.in, err = readFrame(f.conn, f.in)
	}
	stop()
	if err != nil {
		// The connection may hold a late reply now: never use it again.
		f.conn.Close()
		cerr := ctx.Err()
		if cerr == nil && hasDeadline && errors.Is(err, os.ErrDeadlineExceeded) && !time.Now().Before(deadline) {
			// The socket's deadline is the context's, but the context's
			// timer may not have fired yet: the same deadline passed.
			cerr = context.DeadlineExceeded
		}
		if cerr != nil {
			f.broken = fmt.Errorf("fast path closed after %s: %w", method, cerr)
			return status.FromContextError(cerr).Err()
		}
		f.broken = fmt.Errorf("connection to the plugin lost during %s: %v", method, err)
		return status.Error(codes.Unavailable, f.broken.Error())
	}
	if len(f.in) < 4 {
		f.conn.Close()
		f.broken = fmt.Errorf("fast path: reply to %s of %d bytes has no status", method, len(f.in))
		return status.Error(codes.Internal, f.broken.Error())
	}
	code := codes.Code(binary.LittleEndian.Uint32(f.in))
	body := f.in[4:]
	if code != codes.OK {
		return status.Error(code, string(body))
	}
	if err := proto.Unmarshal(body, rep); err != nil {
		return status.Errorf(codes.Internal, "fast path: decoding the reply to %s: %v", method, err)
	}
	return nil
}

// Close closes the fast path's connection, if one was opened.
func (f *fastConn) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.conn != nil {
		f.conn.Close()
		f.conn = nil
	}
}
