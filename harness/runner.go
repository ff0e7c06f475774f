package harness

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"math"
	"slices"
	"sort"
	"time"

	"github.com/attnlab/attnlab/kernels/optim"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Trial statuses, as recorded by tracking.
const (
	StatusFinished = "finished"
	StatusFailed   = "failed"
	StatusDiverged = "diverged"
	StatusKilled   = "killed"
	StatusPruned   = "pruned"
)

// Observer receives a trial's metrics as they are produced.
type Observer interface {
	// Metric reports one value; keys are "train/loss", "eval/accuracy",
	// "step_ms", "tokens_per_s", "peak_rss_mb", ...
	Metric(step int, key string, value float64)
}

// ObserverFunc adapts a function to Observer.
type ObserverFunc func(step int, key string, value float64)

// Metric implements Observer.
func (f ObserverFunc) Metric(step int, key string, value float64) { f(step, key, value) }

// Result is how a trial ended.
type Result struct {
	Status    string
	Err       error // why it failed, diverged or was killed
	Steps     int   // optimiser steps completed
	NumParams int
	Summaries map[string]float64
	PeakRSS   map[string]int64 // bytes, per process
}

// Pruner decides, during training, whether a trial should stop early.
type Pruner interface {
	Prune(step int, metrics map[string]float64) bool
}

// Run executes one trial: it launches the components, runs the training
// loop with periodic evaluation, and always releases the components. The
// returned Result says how it ended; Run itself never panics on plugin
// failures.
func Run(ctx context.Context, l Launcher, spec TrialSpec, obs Observer, pruner Pruner) (res Result) {
	res.Summaries = map[string]float64{}
	if err := spec.Validate(); err != nil {
		return Result{Status: StatusFailed, Err: err}
	}
	if spec.Train.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, spec.Train.Timeout)
		defer cancel()
	}
	if obs == nil {
		obs = ObserverFunc(func(int, string, float64) {})
	}
	comps, err := l.Launch(ctx, spec)
	if err != nil {
		return Result{Status: StatusFailed, Err: err}
	}
	defer func() {
		res.PeakRSS = comps.PeakRSS()
		comps.Close()
		var total int64
		for k, v := range res.PeakRSS {
			res.Summaries["peak_rss_mb/"+k] = float64(v) / (1 << 20)
			total += v
		}
		res.Summaries["peak_rss_mb"] = float64(total) / (1 << 20)
		if res.Err != nil && ctx.Err() != nil {
			res.Status = StatusKilled
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				res.Status = StatusFailed
				res.Err = fmt.Errorf("trial timed out after %v: %w", spec.Train.Timeout, res.Err)
			}
		}
	}()
	t := &trial{spec: spec, c: comps, obs: obs, ctx: ctx, res: &res}
	if err := t.init(); err != nil {
		res.Status, res.Err = StatusFailed, err
		return res
	}
	res.NumParams = comps.Architecture.NumParams()
	t.loop(pruner)
	return res
}

type trial struct {
	spec  TrialSpec
	c     *Components
	obs   Observer
	ctx   context.Context
	res   *Result
	in    sdk.InputSpec
	sched optim.Schedule
	// attnStateless: the attention component has no parameters, so its
	// GradNormSq and Step calls are skipped.
	attnStateless bool
}

// seeds derives one seed per component from the trial seed, by name, so
// that adding a component never changes another's stream.
func componentSeed(trial uint64, name string) uint64 {
	return rng.New(trial).SplitName(name).Uint64()
}

func (t *trial) init() error {
	s := t.spec
	in, err := t.c.Objective.Init(s.Objective.Config, s.Train.Batch, componentSeed(s.Seed, "objective"))
	if err != nil {
		return err
	}
	t.in = in
	t.attnStateless = t.c.Attention.Describe().Has(sdk.Stateless)
	attn := sdk.Bind(t.c.Attention, s.Attention.Config, s.Train.Optimizer)
	if err := t.c.Architecture.Init(s.Architecture.Config, in, s.Train.Optimizer, attn, componentSeed(s.Seed, "architecture")); err != nil {
		return err
	}
	switch s.Train.Schedule {
	case "cosine":
		t.sched = optim.WarmupCosine{Base: float32(s.Train.LR), Min: float32(s.Train.MinLR), Warmup: s.Train.Warmup, Total: s.Train.Steps}
	case "linear":
		t.sched = optim.WarmupLinear{Base: float32(s.Train.LR), Min: float32(s.Train.MinLR), Warmup: s.Train.Warmup, Total: s.Train.Steps}
	default:
		t.sched = optim.Constant{Base: float32(s.Train.LR)}
	}
	return nil
}

func finite(x float64) bool { return !math.IsNaN(x) && !math.IsInf(x, 0) }

func (t *trial) loop(pruner Pruner) {
	s := t.spec
	tokens := float64(s.Train.Batch * (t.in.SeqLen + t.in.TargetLen))
	var stepMS []float64
	var lastLoss, lastAcc float64
	for step := 0; step < s.Train.Steps; step++ {
		if err := t.ctx.Err(); err != nil {
			t.fail(StatusKilled, fmt.Errorf("stopped at step %d: %w", step, err))
			return
		}
		start := time.Now()
		loss, m, norm, err := t.step(step)
		if err != nil {
			t.fail(StatusFailed, fmt.Errorf("step %d: %w", step, err))
			return
		}
		ms := float64(time.Since(start).Microseconds()) / 1000
		stepMS = append(stepMS, ms)
		t.obs.Metric(step, "train/loss", loss)
		for _, k := range slices.Sorted(maps.Keys(m)) {
			t.obs.Metric(step, "train/"+k, m[k])
		}
		t.obs.Metric(step, "grad_norm", norm)
		t.obs.Metric(step, "lr", float64(t.sched.LR(step)))
		t.obs.Metric(step, "step_ms", ms)
		t.obs.Metric(step, "tokens_per_s", tokens/(ms/1000))
		t.res.Steps = step + 1
		lastLoss, lastAcc = loss, m["accuracy"]
		if !finite(loss) || !finite(norm) {
			t.fail(StatusDiverged, fmt.Errorf("loss %v, gradient norm %v at step %d", loss, norm, step))
			return
		}
		if step%10 == 0 || step == s.Train.Steps-1 {
			t.obs.Metric(step, "peak_rss_mb", t.totalRSS())
		}
		last := step == s.Train.Steps-1
		if (s.Train.EvalEvery > 0 && (step+1)%s.Train.EvalEvery == 0) || last {
			em, err := t.eval()
			if err != nil {
				t.fail(StatusFailed, fmt.Errorf("evaluation after step %d: %w", step, err))
				return
			}
			for _, k := range slices.Sorted(maps.Keys(em)) {
				t.obs.Metric(step, "eval/"+k, em[k])
				t.res.Summaries["eval/"+k] = em[k]
			}
			if pruner != nil && !last && pruner.Prune(step, em) {
				t.fail(StatusPruned, fmt.Errorf("pruned at step %d by median stopping", step))
				return
			}
		}
	}
	t.res.Status = StatusFinished
	t.res.Summaries["train/loss"] = lastLoss
	t.res.Summaries["train/accuracy"] = lastAcc
	t.res.Summaries["step_ms"] = median(stepMS)
	t.res.Summaries["tokens_per_s"] = tokens / (median(stepMS) / 1000)
	t.res.Summaries["steps"] = float64(t.res.Steps)
}

func (t *trial) fail(status string, err error) {
	t.res.Status, t.res.Err = status, err
}

// step runs one optimiser step and returns the loss, the objective's
// metrics and the gradient norm before clipping.
func (t *trial) step(step int) (float64, sdk.Metrics, float64, error) {
	c := t.c
	batch, err := c.Objective.Batch(sdk.Train, step)
	if err != nil {
		return 0, nil, 0, err
	}
	out, err := c.Architecture.Forward(batch, true)
	if err != nil {
		return 0, nil, 0, err
	}
	loss, dout, m, err := c.Objective.Loss(out, batch)
	if err != nil {
		return 0, nil, 0, err
	}
	metrics := sdk.Metrics{}
	for k, v := range m {
		metrics[k] = v
	}
	if !finite(float64(loss)) {
		return float64(loss), metrics, math.NaN(), nil
	}
	if err := c.Architecture.Backward(dout); err != nil {
		return 0, nil, 0, err
	}
	na, err := c.Architecture.GradNormSq()
	if err != nil {
		return 0, nil, 0, err
	}
	var nt float64
	if !t.attnStateless {
		if nt, err = c.Attention.GradNormSq(); err != nil {
			return 0, nil, 0, err
		}
	}
	norm := math.Sqrt(na + nt)
	scale := float32(1)
	// Global-norm clipping as torch.nn.utils.clip_grad_norm_.
	if clip := t.spec.Train.Clip; clip > 0 && norm > clip {
		scale = float32(clip / (norm + 1e-6))
	}
	args := sdk.StepArgs{Step: step, LR: t.sched.LR(step), GradScale: scale}
	if err := c.Architecture.Step(args); err != nil {
		return 0, nil, 0, err
	}
	if !t.attnStateless {
		if err := c.Attention.Step(args); err != nil {
			return 0, nil, 0, err
		}
	}
	return float64(loss), metrics, norm, nil
}

// eval averages the loss over the eval batches, and every other metric
// weighted by the "tokens" metric when the objective reports it.
func (t *trial) eval() (map[string]float64, error) {
	n := max(1, t.spec.Train.EvalBatches)
	sums := map[string]float64{}
	var lossSum, weightSum float64
	for i := range n {
		batch, err := t.c.Objective.Batch(sdk.Eval, i)
		if err != nil {
			return nil, err
		}
		out, err := t.c.Architecture.Forward(batch, false)
		if err != nil {
			return nil, err
		}
		loss, _, m, err := t.c.Objective.Loss(out, batch)
		if err != nil {
			return nil, err
		}
		w := 1.0
		if tok, ok := m["tokens"]; ok {
			w = tok
		}
		lossSum += w * float64(loss)
		weightSum += w
		for k, v := range m {
			if k != "tokens" {
				sums[k] += w * v
			}
		}
		if t.in.Generate && batch.DecoderInputs != nil {
			gm, err := t.greedy(batch)
			if err != nil {
				return nil, fmt.Errorf("greedy decoding of eval batch %d: %w", i, err)
			}
			for k, v := range gm {
				if k != "tokens" {
					sums["greedy_"+k] += w * v
				}
			}
		}
	}
	out := map[string]float64{"loss": lossSum / weightSum}
	for k, v := range sums {
		out[k] = v / weightSum
	}
	return out, nil
}

// greedy decodes batch one token at a time: the decoder starts from the
// batch's first decoder input (BOS) and is fed its own most likely token,
// position after position, with the encoder input unchanged; the
// objective then scores the last output, whose arg max at every position
// is the greedy prediction (a causal decoder's output at t depends on its
// inputs up to t only). Costs TargetLen forward passes per batch; the
// metrics (e.g. accuracy and exact match) are reported as eval/greedy_*.
func (t *trial) greedy(batch *sdk.Batch) (sdk.Metrics, error) {
	di := batch.DecoderInputs
	if len(di.Shape) != 2 || di.Shape[0]*di.Shape[1] != len(di.Data) {
		return nil, fmt.Errorf("decoder inputs have shape %v, want (B, TargetLen)", di.Shape)
	}
	b, tt := di.Shape[0], di.Shape[1]
	dec := sdk.NewInts(b, tt)
	for r := range b {
		for c := range tt {
			dec.Data[r*tt+c] = di.Data[r*tt] // BOS everywhere; overwritten as decoding goes
		}
	}
	g := &sdk.Batch{Inputs: batch.Inputs, Targets: batch.Targets, KeyMask: batch.KeyMask, DecoderInputs: dec}
	var out *tensor.Tensor
	for pos := range tt {
		var err error
		if out, err = t.c.Architecture.Forward(g, false); err != nil {
			return nil, err
		}
		if out.Rank() != 3 || out.Shape[0] != b || out.Shape[1] != tt || len(out.Data) != tensor.Numel(out.Shape) {
			return nil, fmt.Errorf("the architecture returned %s, want per-token logits (%d, %d, vocab)", tensor.FormatShape(out.Shape), b, tt)
		}
		if pos+1 == tt {
			break
		}
		v := out.Shape[2]
		for r := range b {
			row := out.Data[(r*tt+pos)*v : (r*tt+pos+1)*v]
			dec.Data[r*tt+pos+1] = int32(argmax(row))
		}
	}
	_, _, m, err := t.c.Objective.Loss(out, g)
	return m, err
}

// argmax returns the index of the largest value: the first on ties; NaNs
// are passed over, and an all-NaN row gives 0.
func argmax(x []float32) int {
	best := -1
	for i, v := range x {
		if v == v && (best < 0 || v > x[best]) {
			best = i
		}
	}
	return max(best, 0)
}

func (t *trial) totalRSS() float64 {
	var total int64
	for _, v := range t.c.PeakRSS() {
		total += v
	}
	return float64(total) / (1 << 20)
}

func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := append([]float64(nil), xs...)
	sort.Float64s(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}
