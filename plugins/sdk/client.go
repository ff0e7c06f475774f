package sdk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/status"

	"github.com/attnlab/attnlab/kernels/tensor"
	pb "github.com/attnlab/attnlab/plugins/proto/v1"
)

// Session is the caller's side of one trial's shared memory: the harness
// opens one per trial and builds its component clients on it.
type Session struct {
	mu          sync.Mutex
	conns       []*fastConn
	mem         *memory
	dir         string
	threads     int
	ctx         context.Context
	callTimeout time.Duration
}

// NewSession opens the trial's shared-memory directory dir (which the
// caller created and removes) for the calling process. threads is passed
// to every component at Init; callTimeout bounds each call (0: none), so
// a hung plugin fails its trial instead of stalling it.
func NewSession(ctx context.Context, dir string, threads int, callTimeout time.Duration) (*Session, error) {
	m := &memory{dir: dir, prefix: fmt.Sprintf("host-%d-%d", time.Now().UnixNano(), threads),
		mapped: map[string]*segment{}, slots: map[string]*tensor.Tensor{}, islots: map[string][]byte{}}
	return &Session{mem: m, dir: dir, threads: threads, ctx: ctx, callTimeout: callTimeout}, nil
}

// Close closes the session's fast-path connections and unmaps its
// segments.
func (s *Session) Close() {
	s.mu.Lock()
	for _, c := range s.conns {
		c.Close()
	}
	s.conns = nil
	s.mu.Unlock()
	s.mem.close()
}

// fast wraps a plugin's connection in the fast path (fastpath.go), which
// the session closes.
func (s *Session) fast(conn grpc.ClientConnInterface) grpc.ClientConnInterface {
	f := newFastConn(conn, s.dir)
	s.mu.Lock()
	s.conns = append(s.conns, f)
	s.mu.Unlock()
	return f
}

func (s *Session) call() (context.Context, context.CancelFunc) {
	if s.callTimeout > 0 {
		return context.WithTimeout(s.ctx, s.callTimeout)
	}
	return context.WithCancel(s.ctx)
}

func (s *Session) pb() *pb.Session {
	// Calls a component makes onward get 80% of our deadline, so they
	// time out first and the error names the component that hung.
	inner := s.callTimeout * 4 / 5
	return &pb.Session{ShmDir: s.dir, Threads: int32(s.threads), CallTimeoutMs: inner.Milliseconds()}
}

// callErr turns a gRPC error into one that names the component and call;
// ctx is the call's context, to tell a hung plugin from a failing one.
func (s *Session) callErr(ctx context.Context, d Description, method string, err error) error {
	if err == nil {
		return nil
	}
	// The server may reset the stream a moment before our own deadline
	// fires, so a failure at (or just before) the deadline is a timeout.
	dl, hasDeadline := ctx.Deadline()
	if errors.Is(ctx.Err(), context.DeadlineExceeded) || hasDeadline && time.Until(dl) < 50*time.Millisecond {
		return fmt.Errorf("%s plugin %q: %s: no answer within %v: deadline exceeded (is the plugin hung?)", d.Kind, d.Name, method, s.callTimeout)
	}
	st, _ := status.FromError(err)
	return fmt.Errorf("%s plugin %q: %s: %s", d.Kind, d.Name, method, st.Message())
}

// Endpoint is where a plugin is served.
type Endpoint struct {
	Network, Address string
}

// describeOnce fetches and caches a component's description.
type describeOnce struct {
	mu        sync.Mutex
	desc      Description
	described bool
}

func (o *describeOnce) get(f func(context.Context, *pb.Empty, ...grpc.CallOption) (*pb.Description, error), s *Session) Description {
	o.mu.Lock()
	defer o.mu.Unlock()
	if !o.described {
		ctx, cancel := s.call()
		defer cancel()
		d, err := f(ctx, &pb.Empty{})
		if err == nil {
			o.desc, err = fromDescription(d)
		}
		if err != nil {
			return Description{Name: "(unreachable: " + err.Error() + ")"}
		}
		o.described = true
	}
	return o.desc
}

// AttentionClient is an Attention served by another process.
type AttentionClient struct {
	c         pb.AttentionClient
	s         *Session
	ep        Endpoint
	desc      Description
	described bool
	once      describeOnce
}

// NewAttentionClient returns the client for an attention plugin reached
// through conn, which the plugin serves at ep (passed on to the
// architecture so that it calls attention directly).
func NewAttentionClient(conn grpc.ClientConnInterface, s *Session, ep Endpoint) *AttentionClient {
	return &AttentionClient{c: pb.NewAttentionClient(s.fast(conn)), s: s, ep: ep}
}

func (a *AttentionClient) Describe() Description {
	if a.described {
		return a.desc
	}
	return a.once.get(a.c.Describe, a.s)
}

func (a *AttentionClient) Init(cfg Config, spec AttentionSpec) error {
	pc, err := toConfig(cfg)
	if err != nil {
		return err
	}
	ctx, cancel := a.s.call()
	defer cancel()
	_, err = a.c.Init(ctx, &pb.AttentionInitRequest{Session: a.s.pb(), Config: pc, Spec: toAttentionSpec(spec)})
	return a.s.callErr(ctx, a.Describe(), "Init", err)
}

func (a *AttentionClient) Forward(layer int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	slot := "attention.forward." + strconv.Itoa(layer)
	req := &pb.AttentionForwardRequest{Layer: int32(layer)}
	var err error
	if req.Q, err = a.s.mem.exportTensor(q, slot+".q"); err != nil {
		return nil, err
	}
	if req.K, err = a.s.mem.exportTensor(k, slot+".k"); err != nil {
		return nil, err
	}
	if req.V, err = a.s.mem.exportTensor(v, slot+".v"); err != nil {
		return nil, err
	}
	if req.KeyMask, err = a.s.mem.exportBools(keyMask, slot+".mask"); err != nil {
		return nil, err
	}
	ctx, cancel := a.s.call()
	defer cancel()
	rep, err := a.c.Forward(ctx, req)
	if err != nil {
		return nil, a.s.callErr(ctx, a.Describe(), "Forward layer "+strconv.Itoa(layer), err)
	}
	return a.s.mem.importTensor(rep.GetTensor())
}

func (a *AttentionClient) Backward(layer int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	d, err := a.s.mem.exportTensor(dout, "attention.backward."+strconv.Itoa(layer)+".dout")
	if err != nil {
		return nil, nil, nil, err
	}
	ctx, cancel := a.s.call()
	defer cancel()
	rep, err := a.c.Backward(ctx, &pb.AttentionBackwardRequest{Layer: int32(layer), Dout: d})
	if err != nil {
		return nil, nil, nil, a.s.callErr(ctx, a.Describe(), "Backward layer "+strconv.Itoa(layer), err)
	}
	if dq, err = a.s.mem.importTensor(rep.GetDq()); err != nil {
		return nil, nil, nil, err
	}
	if dk, err = a.s.mem.importTensor(rep.GetDk()); err != nil {
		return nil, nil, nil, err
	}
	dv, err = a.s.mem.importTensor(rep.GetDv())
	return dq, dk, dv, err
}

func (a *AttentionClient) GradNormSq() (float64, error) {
	ctx, cancel := a.s.call()
	defer cancel()
	r, err := a.c.GradNormSq(ctx, &pb.Empty{})
	return r.GetValue(), a.s.callErr(ctx, a.Describe(), "GradNormSq", err)
}

func (a *AttentionClient) Step(args StepArgs) error {
	ctx, cancel := a.s.call()
	defer cancel()
	_, err := a.c.Step(ctx, toStepArgs(args))
	return a.s.callErr(ctx, a.Describe(), "Step", err)
}

// ArchitectureClient is an Architecture served by another process. Its
// attention must be an AttentionClient (bound with Bind): the architecture
// process then calls the attention process directly.
type ArchitectureClient struct {
	c         pb.ArchitectureClient
	s         *Session
	once      describeOnce
	numParams int
	// normSq is the gradients' squared norm that the last Backward's reply
	// carried; GradNormSq returns it without a round trip. Cleared by
	// Forward and Step, which begin a new step.
	normSq *float64
}

// NewArchitectureClient returns the client for an architecture plugin.
func NewArchitectureClient(conn grpc.ClientConnInterface, s *Session) *ArchitectureClient {
	return &ArchitectureClient{c: pb.NewArchitectureClient(s.fast(conn)), s: s}
}

func (a *ArchitectureClient) Describe() Description { return a.once.get(a.c.Describe, a.s) }

func (a *ArchitectureClient) Init(cfg Config, in InputSpec, opt Optimizer, attn AttentionLayers, seed uint64) error {
	pc, err := toConfig(cfg)
	if err != nil {
		return err
	}
	req := &pb.ArchInitRequest{Session: a.s.pb(), Config: pc, Input: toInputSpec(in), Optimizer: toOptimizer(opt), Seed: seed}
	if attn != nil {
		b, ok := attn.(*bound)
		var ac *AttentionClient
		if ok {
			ac, ok = b.attn.(*AttentionClient)
		}
		if !ok || ac.ep.Network == "" {
			return fmt.Errorf("an architecture plugin needs its attention served by a plugin too (got %T)", attn)
		}
		acfg, err := toConfig(b.cfg)
		if err != nil {
			return err
		}
		desc, err := toDescription(ac.Describe())
		if err != nil {
			return err
		}
		req.Attention = &pb.AttentionEndpoint{Network: ac.ep.Network, Address: ac.ep.Address, Config: acfg, Description: desc}
	}
	ctx, cancel := a.s.call()
	defer cancel()
	rep, err := a.c.Init(ctx, req)
	if err != nil {
		return a.s.callErr(ctx, a.Describe(), "Init", err)
	}
	a.numParams = int(rep.GetNumParams())
	return nil
}

func (a *ArchitectureClient) Forward(batch *Batch, train bool) (*tensor.Tensor, error) {
	a.normSq = nil
	b, err := a.s.mem.exportBatch(batch, "arch.forward.batch")
	if err != nil {
		return nil, err
	}
	ctx, cancel := a.s.call()
	defer cancel()
	rep, err := a.c.Forward(ctx, &pb.ArchForwardRequest{Batch: b, Train: train})
	if err != nil {
		return nil, a.s.callErr(ctx, a.Describe(), "Forward", err)
	}
	return a.s.mem.importTensor(rep.GetTensor())
}

func (a *ArchitectureClient) Backward(dout *tensor.Tensor) error {
	d, err := a.s.mem.exportTensor(dout, "arch.backward.dout")
	if err != nil {
		return err
	}
	a.normSq = nil
	ctx, cancel := a.s.call()
	defer cancel()
	rep, err := a.c.Backward(ctx, &pb.TensorMessage{Tensor: d})
	if err != nil {
		return a.s.callErr(ctx, a.Describe(), "Backward", err)
	}
	a.normSq = rep.GradNormSq
	return nil
}

func (a *ArchitectureClient) GradNormSq() (float64, error) {
	if a.normSq != nil {
		return *a.normSq, nil
	}
	ctx, cancel := a.s.call()
	defer cancel()
	r, err := a.c.GradNormSq(ctx, &pb.Empty{})
	return r.GetValue(), a.s.callErr(ctx, a.Describe(), "GradNormSq", err)
}

func (a *ArchitectureClient) Step(args StepArgs) error {
	a.normSq = nil
	ctx, cancel := a.s.call()
	defer cancel()
	_, err := a.c.Step(ctx, toStepArgs(args))
	return a.s.callErr(ctx, a.Describe(), "Step", err)
}

func (a *ArchitectureClient) NumParams() int { return a.numParams }

// ObjectiveClient is an Objective served by another process.
type ObjectiveClient struct {
	c    pb.ObjectiveClient
	s    *Session
	once describeOnce
}

// NewObjectiveClient returns the client for an objective plugin.
func NewObjectiveClient(conn grpc.ClientConnInterface, s *Session) *ObjectiveClient {
	return &ObjectiveClient{c: pb.NewObjectiveClient(s.fast(conn)), s: s}
}

func (o *ObjectiveClient) Describe() Description { return o.once.get(o.c.Describe, o.s) }

func (o *ObjectiveClient) Init(cfg Config, batch int, seed uint64) (InputSpec, error) {
	pc, err := toConfig(cfg)
	if err != nil {
		return InputSpec{}, err
	}
	ctx, cancel := o.s.call()
	defer cancel()
	r, err := o.c.Init(ctx, &pb.ObjectiveInitRequest{Session: o.s.pb(), Config: pc, Batch: int32(batch), Seed: seed})
	if err != nil {
		return InputSpec{}, o.s.callErr(ctx, o.Describe(), "Init", err)
	}
	return fromInputSpec(r), nil
}

func (o *ObjectiveClient) Batch(split Split, index int) (*Batch, error) {
	ctx, cancel := o.s.call()
	defer cancel()
	r, err := o.c.Batch(ctx, &pb.BatchRequest{Split: string(split), Index: int64(index)})
	if err != nil {
		return nil, o.s.callErr(ctx, o.Describe(), "Batch", err)
	}
	return o.s.mem.importBatch(r)
}

func (o *ObjectiveClient) Loss(out *tensor.Tensor, batch *Batch) (float32, *tensor.Tensor, Metrics, error) {
	d, err := o.s.mem.exportTensor(out, "objective.loss.out")
	if err != nil {
		return 0, nil, nil, err
	}
	b, err := o.s.mem.exportBatch(batch, "objective.loss.batch")
	if err != nil {
		return 0, nil, nil, err
	}
	ctx, cancel := o.s.call()
	defer cancel()
	r, err := o.c.Loss(ctx, &pb.LossRequest{Out: d, Batch: b})
	if err != nil {
		return 0, nil, nil, o.s.callErr(ctx, o.Describe(), "Loss", err)
	}
	dout, err := o.s.mem.importTensor(r.GetDout())
	if err != nil {
		return 0, nil, nil, err
	}
	return r.GetLoss(), dout, Metrics(r.GetMetrics()), nil
}
