package sdk

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"net"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/proto"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	pb "github.com/attnlab/attnlab/plugins/proto/v1"
)

// The test binary re-executes itself as a plugin when this variable is set.
const pluginEnv = "ATTNLAB_SDK_TEST_PLUGIN"

func TestMain(m *testing.M) {
	switch os.Getenv(pluginEnv) {
	case "attention":
		Serve(&scaleAttention{})
		os.Exit(0)
	}
	os.Exit(m.Run())
}

// scaleAttention is a toy attention: out = 2·q + v, dq = 2·dout, dk = 0,
// dv = dout. Layer 99 panics, layer 98 returns an error, layer 97 hangs
// for 3 s.
type scaleAttention struct {
	out, dq, dk, dv *tensor.Tensor
	spec            AttentionSpec
}

func (a *scaleAttention) Describe() Description {
	return Description{Kind: KindAttention, Name: "scale", Version: "0.1", Params: []Param{{Name: "factor", Type: Float, Default: 2.0, Doc: "q multiplier"}}}
}

func (a *scaleAttention) Init(cfg Config, spec AttentionSpec) error {
	a.spec = spec
	shape := []int{spec.Batch, spec.Heads, spec.MaxSeq, spec.HeadDim}
	a.out, a.dq, a.dk, a.dv = NewTensor(shape...), NewTensor(shape...), NewTensor(shape...), NewTensor(shape...)
	return nil
}

func (a *scaleAttention) Forward(layer int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	switch layer {
	case 99:
		panic("layer 99 is cursed")
	case 98:
		return nil, errTest
	case 97:
		time.Sleep(3 * time.Second) // a hung plugin, for deadlines
	}
	for i := range a.out.Data {
		a.out.Data[i] = 2*q.Data[i] + v.Data[i]
	}
	if keyMask != nil && !keyMask[0] {
		a.out.Data[0] = -1
	}
	return a.out, nil
}

func (a *scaleAttention) Backward(layer int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	for i, g := range dout.Data {
		a.dq.Data[i], a.dk.Data[i], a.dv.Data[i] = 2*g, 0, g
	}
	return a.dq, a.dk, a.dv, nil
}

func (a *scaleAttention) GradNormSq() (float64, error) { return 1.5, nil }
func (a *scaleAttention) Step(StepArgs) error          { return nil }

type testError string

func (e testError) Error() string { return string(e) }

const errTest = testError("layer 98 refuses")

// startPlugin runs this test binary as the named plugin and returns a
// connection to it and its endpoint.
func startPlugin(t *testing.T, kind string) (*grpc.ClientConn, Endpoint, *plugin.Client) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), pluginEnv+"="+kind)
	c := plugin.NewClient(&plugin.ClientConfig{
		HandshakeConfig:  Handshake,
		VersionedPlugins: PluginSets(),
		Cmd:              cmd,
		AllowedProtocols: []plugin.Protocol{plugin.ProtocolGRPC},
		Logger:           hclog.NewNullLogger(),
	})
	t.Cleanup(c.Kill)
	rpc, err := c.Client()
	if err != nil {
		t.Fatal(err)
	}
	raw, err := rpc.Dispense(kind)
	if err != nil {
		t.Fatal(err)
	}
	addr := c.ReattachConfig().Addr
	return raw.(*grpc.ClientConn), Endpoint{Network: addr.Network(), Address: addr.String()}, c
}

func TestAttentionThroughSharedMemory(t *testing.T) {
	conn, ep, _ := startPlugin(t, "attention")
	dir := t.TempDir()
	s, err := NewSession(context.Background(), dir, 1, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := NewAttentionClient(conn, s, ep)
	if d := a.Describe(); d.Name != "scale" || d.Kind != KindAttention || len(d.Params) != 1 || d.Params[0].Default != 2.0 {
		t.Fatalf("Describe = %+v", d)
	}
	spec := AttentionSpec{Layers: 1, Heads: 2, KVHeads: 2, HeadDim: 3, MaxSeq: 4, Batch: 1}
	if err := a.Init(Config{"factor": 2.0}, spec); err != nil {
		t.Fatal(err)
	}
	q := tensor.New(1, 2, 4, 3)
	v := tensor.New(1, 2, 4, 3)
	rng.New(1).FillNormal(q.Data, 0, 1)
	rng.New(2).FillNormal(v.Data, 0, 1)
	out, err := a.Forward(0, q, q, v, nil)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]float32, 24)
	for i := range want {
		want[i] = 2*q.Data[i] + v.Data[i]
	}
	for i := range want {
		if out.Data[i] != want[i] {
			t.Fatalf("out[%d] = %v, want %v", i, out.Data[i], want[i])
		}
	}
	// The output is read in place from the plugin's segment: writing to
	// it would fault, and the data is not a copy in the Go heap.
	if _, _, ok := s.mem.find(unsafePointer(out.Data), 4*len(out.Data)); !ok {
		t.Error("Forward's output is not a view of shared memory")
	}
	mask := []bool{false, true, true, true}
	if out, err = a.Forward(0, q, q, v, mask); err != nil || out.Data[0] != -1 {
		t.Fatalf("key mask did not arrive: %v %v", out.Data[0], err)
	}
	dq, dk, dv, err := a.Backward(0, v)
	if err != nil {
		t.Fatal(err)
	}
	if dq.Data[5] != 2*v.Data[5] || dk.Data[5] != 0 || dv.Data[5] != v.Data[5] {
		t.Fatal("backward values")
	}
	if n, err := a.GradNormSq(); err != nil || n != 1.5 {
		t.Fatalf("GradNormSq = %v, %v", n, err)
	}
	_, err = a.Forward(98, q, q, v, nil)
	if err == nil || !strings.Contains(err.Error(), `attention plugin "scale": Forward layer 98: layer 98 refuses`) {
		t.Fatalf("component error: %v", err)
	}
	_, err = a.Forward(99, q, q, v, nil)
	if err == nil || !strings.Contains(err.Error(), "panic: layer 99 is cursed") {
		t.Fatalf("panic was not reported: %v", err)
	}
	// The plugin survives a recovered panic.
	if _, err := a.Forward(0, q, q, v, nil); err != nil {
		t.Fatalf("after a panic: %v", err)
	}
	// Every call after Init, errors and panics included, took the fast
	// path: Forward ×5, Backward, GradNormSq.
	if n := s.conns[0].fastCalls; n != 7 {
		t.Errorf("%d calls took the fast path, want 7", n)
	}
}

// A call on the fast path honours its deadline like a gRPC call: the
// error names the component, the call and the timeout, and the client
// never reads the late reply as the answer to a later call.
func TestFastPathDeadline(t *testing.T) {
	conn, ep, _ := startPlugin(t, "attention")
	s, err := NewSession(context.Background(), t.TempDir(), 1, 500*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	a := NewAttentionClient(conn, s, ep)
	if err := a.Init(Config{"factor": 2.0}, AttentionSpec{Layers: 1, Heads: 1, KVHeads: 1, HeadDim: 1, MaxSeq: 1, Batch: 1}); err != nil {
		t.Fatal(err)
	}
	q := tensor.New(1, 1, 1, 1)
	if _, err := a.Forward(0, q, q, q, nil); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	_, err = a.Forward(97, q, q, q, nil)
	if err == nil || !strings.Contains(err.Error(), `attention plugin "scale": Forward layer 97: no answer within 500ms`) {
		t.Fatalf("hung call: %v", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("the deadline fired after %v", d)
	}
	if _, err := a.Forward(0, q, q, q, nil); err == nil || !strings.Contains(err.Error(), "fast path closed after /attnlab.v1.Attention/Forward") {
		t.Fatalf("a call after the timed-out one: %v", err)
	}
}

// The plugin's side of the fast path closes a connection that sends a
// malformed frame, answers an unknown method with Unimplemented, and
// answers a request that does not decode with the handler's error.
func TestFastPathServerRejectsBadFrames(t *testing.T) {
	f := newFastServer()
	f.register(&pb.Attention_ServiceDesc, &attentionServer{impl: &scaleAttention{}})
	frame := func(method string, timeout int64, msg []byte) []byte {
		b := binary.LittleEndian.AppendUint32(nil, 0)
		b = binary.LittleEndian.AppendUint16(b, uint16(len(method)))
		b = append(b, method...)
		b = binary.LittleEndian.AppendUint64(b, uint64(timeout))
		b = append(b, msg...)
		binary.LittleEndian.PutUint32(b, uint32(len(b)-4))
		return b
	}
	roundTrip := func(req []byte) (codes.Code, string, error) {
		c, srv := net.Pipe()
		defer c.Close()
		go f.serve(srv)
		c.SetDeadline(time.Now().Add(5 * time.Second))
		if _, err := c.Write(req); err != nil {
			return 0, "", err
		}
		rep, err := readFrame(c, nil)
		if err != nil {
			return 0, "", err
		}
		return codes.Code(binary.LittleEndian.Uint32(rep)), string(rep[4:]), nil
	}
	code, msg, err := roundTrip(frame("/attnlab.v1.Attention/Nope", 0, nil))
	if err != nil || code != codes.Unimplemented || !strings.Contains(msg, `unknown method "/attnlab.v1.Attention/Nope"`) {
		t.Errorf("unknown method: %v %q %v", code, msg, err)
	}
	code, msg, err = roundTrip(frame("/attnlab.v1.Attention/Forward", 0, nil))
	if err != nil || code != codes.FailedPrecondition || !strings.Contains(msg, "before Init") {
		t.Errorf("call before Init: %v %q %v", code, msg, err)
	}
	code, _, err = roundTrip(frame("/attnlab.v1.Attention/Forward", 0, []byte{0xff, 0xff, 0xff}))
	if err != nil || code == codes.OK {
		t.Errorf("undecodable request: %v %v", code, err)
	}
	for name, bad := range map[string][]byte{
		"huge length":      binary.LittleEndian.AppendUint32(nil, maxFrame+1),
		"method past end":  append(binary.LittleEndian.AppendUint32(nil, 4), 0xff, 0x00, 'x', 'y'),
		"negative timeout": frame("/attnlab.v1.Attention/Forward", -5, nil),
	} {
		if _, _, err := roundTrip(bad); err == nil {
			t.Errorf("%s: the server answered instead of closing the connection", name)
		}
	}
	if _, err := readFrame(bytes.NewReader(binary.LittleEndian.AppendUint32(nil, 100)), nil); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("a frame cut short: %v", err)
	}
}

func TestSharedMemoryRejectsBadDescriptors(t *testing.T) {
	dir := t.TempDir()
	s, _ := NewSession(context.Background(), dir, 1, 0)
	defer s.Close()
	x := tensor.New(4, 4)
	d, err := s.mem.exportTensor(x, "x")
	if err != nil {
		t.Fatal(err)
	}
	other, _ := NewSession(context.Background(), dir, 1, 0)
	defer other.Close()
	y, err := other.mem.importTensor(d)
	if err != nil || len(y.Data) != 16 {
		t.Fatalf("import: %v", err)
	}
	clone := func() *pb.Tensor { return proto.Clone(d).(*pb.Tensor) }
	bad := clone()
	bad.Offset = 1 << 40
	if _, err := other.mem.importTensor(bad); err == nil || !strings.Contains(err.Error(), "outside its") {
		t.Errorf("out-of-range descriptor: %v", err)
	}
	bad = clone()
	bad.Segment = "../etc/passwd"
	if _, err := other.mem.importTensor(bad); err == nil || !strings.Contains(err.Error(), "invalid shared-memory segment name") {
		t.Errorf("path in segment name: %v", err)
	}
	bad = clone()
	bad.Shape = []int64{-1, 4}
	if _, err := other.mem.importTensor(bad); err == nil {
		t.Error("negative dimension accepted")
	}
	if _, err := other.mem.importInts(d); err == nil || !strings.Contains(err.Error(), "dtype") {
		t.Errorf("dtype mismatch: %v", err)
	}
}

func TestResolve(t *testing.T) {
	d := Description{Kind: KindAttention, Name: "x", Params: []Param{
		{Name: "window", Type: Int, Default: int64(64), Min: Bound(1)},
		{Name: "mode", Type: String, Default: "a", Choices: []string{"a", "b"}},
		{Name: "scale", Type: Float, Default: 1.0},
		{Name: "need", Type: Bool},
	}}
	cfg, err := d.Resolve(map[string]any{"window": 8, "need": true, "scale": 2})
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Int("window") != 8 || cfg.String("mode") != "a" || cfg.Float("scale") != 2 || !cfg.Bool("need") {
		t.Fatalf("resolved %v", cfg)
	}
	for _, c := range []struct {
		raw  map[string]any
		want string
	}{
		{map[string]any{"need": true, "windw": 3}, `has no parameter "windw" (it has: window, mode, scale, need)`},
		{map[string]any{}, `parameter "need" (bool) is required`},
		{map[string]any{"need": true, "window": 0}, `parameter "window": got 0, want at least 1`},
		{map[string]any{"need": true, "window": 1.5}, `got 1.5, want an integer`},
		{map[string]any{"need": true, "mode": "c"}, `got "c", want one of a, b`},
		{map[string]any{"need": "yes"}, `got yes (string), want true or false`},
	} {
		if _, err := d.Resolve(c.raw); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("Resolve(%v) = %v, want %q", c.raw, err, c.want)
		}
	}
}
