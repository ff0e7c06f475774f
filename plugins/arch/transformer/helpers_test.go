package transformer

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func tokensSpec(vocab, seqLen, batch int) sdk.InputSpec {
	return sdk.InputSpec{Vocab: vocab, SeqLen: seqLen, Batch: batch, Output: "tokens"}
}

// maskedSpec is a masked-LM objective's spec: per-token logits from an
// encoder.
func maskedSpec(vocab, seqLen, batch int) sdk.InputSpec {
	return sdk.InputSpec{Vocab: vocab, SeqLen: seqLen, Batch: batch, Output: "tokens", Task: sdk.TaskMaskedLM}
}

// classifySpec is a classification objective's spec: (B, classes) logits.
func classifySpec(vocab, seqLen, batch, classes int) sdk.InputSpec {
	return sdk.InputSpec{Vocab: vocab, SeqLen: seqLen, Batch: batch, Classes: classes, Output: "classes", Task: sdk.TaskClassify}
}

// seq2seqSpec is a seq2seq objective's spec: an encoder over seqLen tokens
// and a decoder over targetLen, starting with BOS 0.
func seq2seqSpec(vocab, seqLen, targetLen, batch int) sdk.InputSpec {
	return sdk.InputSpec{Vocab: vocab, SeqLen: seqLen, Batch: batch, Output: "tokens", Task: sdk.TaskSeq2Seq,
		TargetLen: targetLen, Generate: true}
}

// build returns an initialised model using the in-process full attention
// through sdk.Bind, as the harness wires it.
func build(t testing.TB, cfg sdk.Config, in sdk.InputSpec, opt sdk.Optimizer, seed uint64) *model {
	t.Helper()
	m := New().(*model)
	if err := m.Init(cfg, in, opt, sdk.Bind(full.New(), nil, opt), seed); err != nil {
		t.Fatal(err)
	}
	return m
}

// ints returns a (b, t) integer tensor with values f(batch, position).
func ints(b, t int, f func(bi, ti int) int32) *sdk.Ints {
	x := sdk.NewInts(b, t)
	for bi := range b {
		for ti := range t {
			x.Data[bi*t+ti] = f(bi, ti)
		}
	}
	return x
}

// randomBatch has uniform ids and next-token-like targets, with one
// ignored target per row.
func randomBatch(r *rng.RNG, b, t, vocab int) *sdk.Batch {
	in := ints(b, t, func(int, int) int32 { return int32(r.Intn(vocab)) })
	tg := ints(b, t, func(bi, ti int) int32 {
		if ti == t-1 {
			return sdk.IgnoreIndex
		}
		return int32(r.Intn(vocab))
	})
	return &sdk.Batch{Inputs: in, Targets: tg}
}

// crossEntropy is the test's objective: mean cross-entropy of the logits
// (B, T, V) or (B, K) against batch.Targets, through kernels/nn, with
// buffers reused across calls so a training step allocates nothing.
type crossEntropy struct {
	losses, probs, dlogits view
}

func newCrossEntropy(b, t, v int) *crossEntropy {
	mk := func(shape ...int) view {
		return view{buf: make([]float32, tensor.Numel(shape)), tdim: 1, t: tensor.Tensor{Shape: append([]int(nil), shape...)}}
	}
	return &crossEntropy{losses: mk(b, t), probs: mk(b, t, v), dlogits: mk(b, t, v)}
}

// newClassEntropy is crossEntropy for class logits (B, K) and targets (B).
func newClassEntropy(b, k int) *crossEntropy {
	mk := func(shape ...int) view {
		return view{buf: make([]float32, tensor.Numel(shape)), tdim: -1, t: tensor.Tensor{Shape: append([]int(nil), shape...)}}
	}
	return &crossEntropy{losses: mk(b), probs: mk(b, k), dlogits: mk(b, k)}
}

// loss returns the mean loss (accumulated in float64 over the rows'
// float32 losses) and its gradient with respect to the logits.
func (c *crossEntropy) loss(t testing.TB, logits *tensor.Tensor, batch *sdk.Batch) (float64, *tensor.Tensor) {
	b, tt := logits.Shape[0], 0
	if logits.Rank() == 3 {
		tt = logits.Shape[1]
	}
	for _, v := range []*view{&c.losses, &c.probs, &c.dlogits} {
		v.resize(b, tt)
	}
	_, count, err := nn.CrossEntropyForward(&c.losses.t, &c.probs.t, logits, batch.Targets.Data, sdk.IgnoreIndex)
	if err != nil {
		t.Fatal(err)
	}
	var s float64
	for _, l := range c.losses.t.Data {
		s += float64(l)
	}
	c.dlogits.t.Zero()
	if err := nn.CrossEntropyBackward(&c.dlogits.t, &c.probs.t, batch.Targets.Data, sdk.IgnoreIndex, 1); err != nil {
		t.Fatal(err)
	}
	return s / float64(count), &c.dlogits.t
}

// trainStep runs Forward, the loss, Backward and Step, and returns the loss.
func trainStep(t testing.TB, m *model, ce *crossEntropy, batch *sdk.Batch, step int, lr float32) float64 {
	logits, err := m.Forward(batch, true)
	if err != nil {
		t.Fatal(err)
	}
	loss, dlogits := ce.loss(t, logits, batch)
	if err := m.Backward(dlogits); err != nil {
		t.Fatal(err)
	}
	if _, err := m.GradNormSq(); err != nil {
		t.Fatal(err)
	}
	if err := m.Step(sdk.StepArgs{Step: step, LR: lr, GradScale: 1}); err != nil {
		t.Fatal(err)
	}
	return loss
}

// sameBits fails unless a and b are bit-identical.
func sameBits(t *testing.T, what string, a, b []float32) {
	t.Helper()
	if len(a) != len(b) {
		t.Fatalf("%s: lengths %d and %d", what, len(a), len(b))
	}
	for i := range a {
		if math.Float32bits(a[i]) != math.Float32bits(b[i]) {
			t.Fatalf("%s: element %d differs: %v vs %v", what, i, a[i], b[i])
		}
	}
}

// weights returns a copy of every parameter, concatenated in order.
func weights(m *model) []float32 {
	var w []float32
	for _, p := range m.params {
		w = append(w, p.v.Data...)
	}
	return w
}

// dlogitsFor returns the gradient of the loss of m's last output on batch.
func (c *crossEntropy) dlogitsFor(t testing.TB, m *model, batch *sdk.Batch) *tensor.Tensor {
	_, d := c.loss(t, m.logits, batch)
	return d
}
