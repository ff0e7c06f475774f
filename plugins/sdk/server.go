package sdk

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"

	"github.com/attnlab/attnlab/kernels/parallel"
	pb "github.com/attnlab/attnlab/plugins/proto/v1"
)

// The gRPC servers wrap a component: they turn descriptors into tensors on
// the way in and tensors into descriptors on the way out. Errors from the
// component travel as gRPC status messages and come back as errors.

func statusErr(err error) error {
	if err == nil {
		return nil
	}
	return status.Error(codes.Unknown, err.Error())
}

// initSession is the part of every Init that is the same for all kinds:
// apply the thread count, open the trial's shared memory for role, and
// decode the component's configuration.
func initSession(s *pb.Session, role string, c *pb.Config) (*memory, Config, error) {
	if s.GetThreads() > 0 {
		parallel.SetThreads(int(s.GetThreads()))
	}
	if s.GetShmDir() == "" {
		return nil, nil, statusErr(fmt.Errorf("Init without a shared-memory directory"))
	}
	mem, err := openMemory(s.GetShmDir(), role)
	if err != nil {
		return nil, nil, statusErr(err)
	}
	cfg, err := fromConfig(c)
	return mem, cfg, statusErr(err)
}

func describe(c Component) (*pb.Description, error) {
	d, err := toDescription(c.Describe())
	return d, statusErr(err)
}

type attentionServer struct {
	pb.UnimplementedAttentionServer
	impl Attention
	mem  *memory
}

func (s *attentionServer) Describe(context.Context, *pb.Empty) (*pb.Description, error) {
	return describe(s.impl)
}

func (s *attentionServer) Init(_ context.Context, r *pb.AttentionInitRequest) (*pb.Empty, error) {
	mem, cfg, err := initSession(r.GetSession(), "attention", r.GetConfig())
	if err != nil {
		return nil, err
	}
	s.mem = mem
	return &pb.Empty{}, statusErr(s.impl.Init(cfg, fromAttentionSpec(r.GetSpec())))
}

func (s *attentionServer) ready() error {
	if s.mem == nil {
		return status.Error(codes.FailedPrecondition, "attention called before Init")
	}
	return nil
}

func (s *attentionServer) Forward(_ context.Context, r *pb.AttentionForwardRequest) (*pb.TensorMessage, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	q, err := s.mem.importTensor(r.GetQ())
	if err != nil {
		return nil, statusErr(fmt.Errorf("q: %w", err))
	}
	k, err := s.mem.importTensor(r.GetK())
	if err != nil {
		return nil, statusErr(fmt.Errorf("k: %w", err))
	}
	v, err := s.mem.importTensor(r.GetV())
	if err != nil {
		return nil, statusErr(fmt.Errorf("v: %w", err))
	}
	if q == nil || k == nil || v == nil {
		return nil, statusErr(fmt.Errorf("Forward needs q, k and v"))
	}
	mask, err := s.mem.importBools(r.GetKeyMask())
	if err != nil {
		return nil, statusErr(fmt.Errorf("key mask: %w", err))
	}
	layer := int(r.GetLayer())
	out, err := s.impl.Forward(layer, q, k, v, mask)
	if err != nil {
		return nil, statusErr(err)
	}
	d, err := s.mem.exportTensor(out, "attention.forward.out."+strconv.Itoa(layer))
	return &pb.TensorMessage{Tensor: d}, statusErr(err)
}

func (s *attentionServer) Backward(_ context.Context, r *pb.AttentionBackwardRequest) (*pb.AttentionBackwardReply, error) {
	if err := s.ready(); err != nil {
		return nil, err
	}
	dout, err := s.mem.importTensor(r.GetDout())
	if err != nil || dout == nil {
		return nil, statusErr(fmt.Errorf("dout: %v", err))
	}
	layer := int(r.GetLayer())
	dq, dk, dv, err := s.impl.Backward(layer, dout)
	if err != nil {
		return nil, statusErr(err)
	}
	slot := "attention.backward." + strconv.Itoa(layer)
	rep := &pb.AttentionBackwardReply{}
	if rep.Dq, err = s.mem.exportTensor(dq, slot+".dq"); err != nil {
		return nil, statusErr(err)
	}
	if rep.Dk, err = s.mem.exportTensor(dk, slot+".dk"); err != nil {
		return nil, statusErr(err)
	}
	if rep.Dv, err = s.mem.exportTensor(dv, slot+".dv"); err != nil {
		return nil, statusErr(err)
	}
	return rep, nil
}

func (s *attentionServer) GradNormSq(context.Context, *pb.Empty) (*pb.Scalar, error) {
	v, err := s.impl.GradNormSq()
	return &pb.Scalar{Value: v}, statusErr(err)
}

func (s *attentionServer) Step(_ context.Context, a *pb.StepArgs) (*pb.Empty, error) {
	return &pb.Empty{}, statusErr(s.impl.Step(fromStepArgs(a)))
}

type archServer struct {
	pb.UnimplementedArchitectureServer
	impl Architecture
	mem  *memory
	conn *grpc.ClientConn // to the attention plugin
}

func (s *archServer) Describe(context.Context, *pb.Empty) (*pb.Description, error) {
	return describe(s.impl)
}

func (s *archServer) Init(_ context.Context, r *pb.ArchInitRequest) (*pb.ArchInitReply, error) {
	mem, cfg, err := initSession(r.GetSession(), "arch", r.GetConfig())
	if err != nil {
		return nil, err
	}
	s.mem = mem
	opt := fromOptimizer(r.GetOptimizer())
	var attn AttentionLayers
	if ep := r.GetAttention(); ep.GetNetwork() != "" {
		conn, err := grpc.NewClient(ep.GetNetwork()+":"+ep.GetAddress(), grpc.WithTransportCredentials(insecure.NewCredentials()))
		if err != nil {
			return nil, statusErr(fmt.Errorf("connecting to the attention plugin at %s: %w", ep.GetAddress(), err))
		}
		s.conn = conn
		acfg, err := fromConfig(ep.GetConfig())
		if err != nil {
			return nil, statusErr(err)
		}
		desc, err := fromDescription(ep.GetDescription())
		if err != nil {
			return nil, statusErr(err)
		}
		rs := r.GetSession()
		sess := &Session{mem: mem, dir: rs.GetShmDir(), threads: int(rs.GetThreads()), ctx: context.Background(),
			callTimeout: time.Duration(rs.GetCallTimeoutMs()) * time.Millisecond}
		attn = Bind(&AttentionClient{c: pb.NewAttentionClient(sess.fast(conn)), s: sess, desc: desc, described: true}, acfg, opt)
	}
	if err := s.impl.Init(cfg, fromInputSpec(r.GetInput()), opt, attn, r.GetSeed()); err != nil {
		return nil, statusErr(err)
	}
	return &pb.ArchInitReply{NumParams: int64(s.impl.NumParams())}, nil
}

func (s *archServer) Forward(_ context.Context, r *pb.ArchForwardRequest) (*pb.TensorMessage, error) {
	if s.mem == nil {
		return nil, status.Error(codes.FailedPrecondition, "architecture called before Init")
	}
	b, err := s.mem.importBatch(r.GetBatch())
	if err != nil {
		return nil, statusErr(err)
	}
	out, err := s.impl.Forward(b, r.GetTrain())
	if err != nil {
		return nil, statusErr(err)
	}
	d, err := s.mem.exportTensor(out, "arch.forward.out")
	return &pb.TensorMessage{Tensor: d}, statusErr(err)
}

func (s *archServer) Backward(_ context.Context, r *pb.TensorMessage) (*pb.ArchBackwardReply, error) {
	if s.mem == nil {
		return nil, status.Error(codes.FailedPrecondition, "architecture called before Init")
	}
	dout, err := s.mem.importTensor(r.GetTensor())
	if err != nil || dout == nil {
		return nil, statusErr(fmt.Errorf("dout: %v", err))
	}
	if err := s.impl.Backward(dout); err != nil {
		return nil, statusErr(err)
	}
	rep := &pb.ArchBackwardReply{}
	// The training loop asks for the norm next; an error is left for that
	// GradNormSq call to report.
	if v, err := s.impl.GradNormSq(); err == nil {
		rep.GradNormSq = &v
	}
	return rep, nil
}

func (s *archServer) GradNormSq(context.Context, *pb.Empty) (*pb.Scalar, error) {
	v, err := s.impl.GradNormSq()
	return &pb.Scalar{Value: v}, statusErr(err)
}

func (s *archServer) Step(_ context.Context, a *pb.StepArgs) (*pb.Empty, error) {
	return &pb.Empty{}, statusErr(s.impl.Step(fromStepArgs(a)))
}

type objectiveServer struct {
	pb.UnimplementedObjectiveServer
	impl Objective
	mem  *memory
}

func (s *objectiveServer) Describe(context.Context, *pb.Empty) (*pb.Description, error) {
	return describe(s.impl)
}

func (s *objectiveServer) Init(_ context.Context, r *pb.ObjectiveInitRequest) (*pb.InputSpec, error) {
	mem, cfg, err := initSession(r.GetSession(), "objective", r.GetConfig())
	if err != nil {
		return nil, err
	}
	s.mem = mem
	spec, err := s.impl.Init(cfg, int(r.GetBatch()), r.GetSeed())
	if err != nil {
		return nil, statusErr(err)
	}
	return toInputSpec(spec), nil
}

func (s *objectiveServer) Batch(_ context.Context, r *pb.BatchRequest) (*pb.Batch, error) {
	if s.mem == nil {
		return nil, status.Error(codes.FailedPrecondition, "objective called before Init")
	}
	split := Split(r.GetSplit())
	b, err := s.impl.Batch(split, int(r.GetIndex()))
	if err != nil {
		return nil, statusErr(err)
	}
	d, err := s.mem.exportBatch(b, "objective.batch."+string(split))
	return d, statusErr(err)
}

func (s *objectiveServer) Loss(_ context.Context, r *pb.LossRequest) (*pb.LossReply, error) {
	if s.mem == nil {
		return nil, status.Error(codes.FailedPrecondition, "objective called before Init")
	}
	out, err := s.mem.importTensor(r.GetOut())
	if err != nil || out == nil {
		return nil, statusErr(fmt.Errorf("model output: %v", err))
	}
	b, err := s.mem.importBatch(r.GetBatch())
	if err != nil {
		return nil, statusErr(err)
	}
	loss, dout, metrics, err := s.impl.Loss(out, b)
	if err != nil {
		return nil, statusErr(err)
	}
	d, err := s.mem.exportTensor(dout, "objective.loss.dout")
	if err != nil {
		return nil, statusErr(err)
	}
	return &pb.LossReply{Loss: loss, Dout: d, Metrics: metrics}, nil
}
