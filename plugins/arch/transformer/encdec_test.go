package transformer

import (
	"testing"
	"time"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// reverseBatch is b examples of the reversal task: n random tokens from
// 1..vocab-1 in, the same reversed out; the decoder reads BOS 0 and then
// the targets shifted right (teacher forcing).
func reverseBatch(r *rng.RNG, b, n, vocab int) *sdk.Batch {
	in := ints(b, n, func(int, int) int32 { return int32(1 + r.Intn(vocab-1)) })
	rev := func(bi, ti int) int32 { return in.Data[bi*n+n-1-ti] }
	return &sdk.Batch{
		Inputs:  in,
		Targets: ints(b, n, rev),
		DecoderInputs: ints(b, n, func(bi, ti int) int32 {
			if ti == 0 {
				return 0
			}
			return rev(bi, ti-1)
		}),
	}
}

// greedy decodes batch as the harness's runner does: decoder inputs start
// as BOS everywhere and each Forward's arg max at position p becomes the
// input at p+1. It returns the last Forward's output; dec holds the
// decoder inputs it read.
func greedy(t testing.TB, m *model, batch *sdk.Batch, dec *sdk.Ints) *tensor.Tensor {
	b, n := dec.Shape[0], dec.Shape[1]
	for i := range dec.Data {
		dec.Data[i] = 0
	}
	g := &sdk.Batch{Inputs: batch.Inputs, KeyMask: batch.KeyMask, DecoderInputs: dec}
	var out *tensor.Tensor
	for pos := range n {
		var err error
		if out, err = m.Forward(g, false); err != nil {
			t.Fatal(err)
		}
		if pos+1 < n {
			for bi := range b {
				dec.Data[bi*n+pos+1] = int32(argmax(out.Data[(bi*n+pos)*m.hp.vocab:][:m.hp.vocab]))
			}
		}
	}
	return out
}

func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] {
			best = i
		}
	}
	return best
}

// An encoder-decoder learns to reverse 6 tokens in a few hundred steps,
// and greedy decoding of unseen inputs gets whole sequences right.
func TestEncoderDecoderLearnsToReverse(t *testing.T) {
	const b, n, vocab, steps = 32, 6, 10, 400
	cfg := sdk.Config{"layers": 2, "d_model": 32, "heads": 4}
	m := build(t, cfg, seq2seqSpec(vocab, n, n, b), sdk.DefaultOptimizer(), 1)
	r := rng.New(2)
	ce := newCrossEntropy(b, n, vocab)
	start := time.Now()
	var first, last float64
	for step := range steps {
		lr := float32(3e-3)
		if step > steps*3/4 {
			lr = 1e-3
		}
		last = trainStep(t, m, ce, reverseBatch(r, b, n, vocab), step, lr)
		if step == 0 {
			first = last
		}
	}
	eval := reverseBatch(rng.New(3), b, n, vocab)
	out := greedy(t, m, eval, sdk.NewInts(b, n))
	exact, right := 0, 0
	for bi := range b {
		all := true
		for ti := range n {
			i := bi*n + ti
			if argmax(out.Data[i*vocab:][:vocab]) == int(eval.Targets.Data[i]) {
				right++
			} else {
				all = false
			}
		}
		if all {
			exact++
		}
	}
	t.Logf("loss %.3f → %.4f in %d steps (%v); greedy: %d/%d sequences, %d/%d tokens right",
		first, last, steps, time.Since(start).Round(time.Millisecond), exact, b, right, b*n)
	if exact < b*9/10 {
		t.Errorf("greedy decoding reversed %d of %d unseen sequences exactly, want at least 90%%", exact, b)
	}
}

// The decoder of an encoder-decoder is causal: changing its inputs at
// positions after t never changes its outputs at t or before, while
// changing the encoder's inputs changes every position.
func TestEncoderDecoderDecoderIsCausal(t *testing.T) {
	const b, te, td, vocab = 2, 5, 7, 13
	for _, positions := range []string{"learned", "rope"} {
		t.Run(positions, func(t *testing.T) {
			m := build(t, sdk.Config{"layers": 2, "d_model": 16, "heads": 2, "positions": positions}, seq2seqSpec(vocab, te, td, b), sdk.DefaultOptimizer(), 4)
			base := seq2seqBatch(rng.New(5), b, te, td, vocab)
			forward := func(batch *sdk.Batch) []float32 {
				out, err := m.Forward(batch, true) // train: never the reused encoder
				if err != nil {
					t.Fatal(err)
				}
				return append([]float32(nil), out.Data...)
			}
			ref := forward(base)
			for pos := range td {
				changed := seq2seqBatch(rng.New(5), b, te, td, vocab)
				for bi := range b {
					for ti := pos + 1; ti < td; ti++ {
						changed.DecoderInputs.Data[bi*td+ti] = int32((int(changed.DecoderInputs.Data[bi*td+ti]) + 1 + ti) % vocab)
					}
				}
				got := forward(changed)
				for bi := range b {
					o := bi * td * vocab
					sameBits(t, "outputs up to the changed position", got[o:o+(pos+1)*vocab], ref[o:o+(pos+1)*vocab])
					if pos+1 < td && got[o+(pos+1)*vocab] == ref[o+(pos+1)*vocab] {
						t.Errorf("position %d: changing its input left its output unchanged", pos+1)
					}
				}
			}
			enc := seq2seqBatch(rng.New(5), b, te, td, vocab)
			enc.Inputs.Data[te-1] = (enc.Inputs.Data[te-1] + 1) % int32(vocab) // example 0, last encoder token
			got := forward(enc)
			for ti := range td {
				if got[ti*vocab] == ref[ti*vocab] {
					t.Errorf("decoder position %d does not see the encoder's last token", ti)
				}
			}
		})
	}
}

// Evaluation Forwards with the same encoder inputs reuse the encoder's
// states: greedy decoding gives bit for bit the outputs of a fresh model
// that computes everything, and a Step in between is not missed.
func TestEncoderReuseIsExact(t *testing.T) {
	const b, te, td, vocab = 3, 6, 5, 11
	in := seq2seqSpec(vocab, te, td, b)
	cfg := sdk.Config{"layers": 2, "d_model": 16, "heads": 2, "dropout": 0.1}
	rec := &recordingAttention{Attention: full.New()}
	a := New().(*model)
	if err := a.Init(cfg, in, sdk.DefaultOptimizer(), sdk.Bind(rec, nil, sdk.DefaultOptimizer()), 6); err != nil {
		t.Fatal(err)
	}
	batch := seq2seqBatch(rng.New(7), b, te, td, vocab)
	batch.KeyMask = rightPadded(b, te, []int{6, 2, 4})
	dec := sdk.NewInts(b, td)
	out := greedy(t, a, batch, dec)
	// Layers 0 and 1 are the encoder's, 2 and 3 the first decoder block's.
	if rec.count[0] != 1 || rec.count[1] != 1 || rec.count[2] != td || rec.count[3] != td {
		t.Errorf("greedy decoding called the attention layers %v times, want the encoder's once and the decoder's %d times", rec.count, td)
	}
	// A fresh model computes the last step from scratch.
	fresh := build(t, cfg, in, sdk.DefaultOptimizer(), 6)
	last := &sdk.Batch{Inputs: batch.Inputs, KeyMask: batch.KeyMask, DecoderInputs: dec}
	want, err := fresh.Forward(last, false)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "greedy decoding's last output, reused encoder vs fresh", out.Data, want.Data)

	// Both models take the same training step. Then a evaluates twice
	// with the same encoder inputs (the second Forward reuses the
	// encoder), backpropagates through the reused states and steps, while
	// fresh computes everything once; after that Step a must not reuse its
	// stale encoder states.
	ce := newCrossEntropy(b, td, vocab)
	trainStep(t, a, ce, batch, 0, 1e-2)
	trainStep(t, fresh, ce, batch, 0, 1e-2)
	if _, err := a.Forward(last, false); err != nil {
		t.Fatal(err)
	}
	if _, err := a.Forward(batch, false); err != nil {
		t.Fatal(err)
	}
	if err := a.Backward(ce.dlogitsFor(t, a, batch)); err != nil {
		t.Fatal(err)
	}
	if err := a.Step(sdk.StepArgs{Step: 1, LR: 1e-2, GradScale: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := fresh.Forward(batch, false); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Backward(ce.dlogitsFor(t, fresh, batch)); err != nil {
		t.Fatal(err)
	}
	if err := fresh.Step(sdk.StepArgs{Step: 1, LR: 1e-2, GradScale: 1}); err != nil {
		t.Fatal(err)
	}
	got, err := a.Forward(batch, false) // after a Step: must recompute
	if err != nil {
		t.Fatal(err)
	}
	want, err = fresh.Forward(batch, false)
	if err != nil {
		t.Fatal(err)
	}
	sameBits(t, "evaluation after a Step", got.Data, want.Data)
	sameBits(t, "weights after the same steps", weights(a), weights(fresh))
}

// recordingAttention is full attention that records the spec it was given
// and the shapes of every Forward.
type recordingAttention struct {
	sdk.Attention
	spec  sdk.AttentionSpec
	calls map[int][2]int // layer → (Tq, Tk) of its last Forward
	count map[int]int    // layer → Forwards
}

func (a *recordingAttention) Init(cfg sdk.Config, spec sdk.AttentionSpec) error {
	a.spec, a.calls, a.count = spec, map[int][2]int{}, map[int]int{}
	return a.Attention.Init(cfg, spec)
}

func (a *recordingAttention) Forward(layer int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	a.calls[layer] = [2]int{q.Shape[2], k.Shape[2]}
	a.count[layer]++
	return a.Attention.Forward(layer, q, k, v, keyMask)
}

// The attention component learns every layer at Init, in order: the
// encoder's self-attention, then each decoder block's self- and
// cross-attention; Forward calls each with its own lengths.
func TestEncoderDecoderAttentionLayers(t *testing.T) {
	const b, te, td, vocab = 2, 9, 4, 11
	rec := &recordingAttention{Attention: full.New()}
	m := New().(*model)
	cfg := sdk.Config{"layers": 2, "decoder_layers": 3, "d_model": 16, "heads": 2}
	if err := m.Init(cfg, seq2seqSpec(vocab, te, td, b), sdk.DefaultOptimizer(), sdk.Bind(rec, nil, sdk.DefaultOptimizer()), 1); err != nil {
		t.Fatal(err)
	}
	self := func(causal bool, n int) sdk.AttentionLayer {
		return sdk.AttentionLayer{Role: sdk.RoleSelf, Causal: causal, MaxQ: n, MaxK: n}
	}
	cross := sdk.AttentionLayer{Role: sdk.RoleCross, MaxQ: td, MaxK: te}
	want := []sdk.AttentionLayer{self(false, te), self(false, te), self(true, td), cross, self(true, td), cross, self(true, td), cross}
	s := rec.spec
	if s.Layers != len(want) || len(s.LayerSpecs) != len(want) || s.MaxSeq != te || s.Batch != b || s.Heads != 2 || s.HeadDim != 8 {
		t.Fatalf("spec %+v", s)
	}
	for i, l := range want {
		if s.LayerSpecs[i] != l {
			t.Errorf("layer %d: %+v, want %+v", i, s.LayerSpecs[i], l)
		}
	}
	batch := seq2seqBatch(rng.New(1), b, te-2, td-1, vocab)
	if _, err := m.Forward(batch, true); err != nil {
		t.Fatal(err)
	}
	for i, l := range want {
		wq, wk := te-2, te-2
		if l.MaxQ == td {
			wq = td - 1
		}
		if l.Role == sdk.RoleCross {
			wk = te - 2
		} else if l.MaxK == td {
			wk = td - 1
		}
		if got := rec.calls[i]; got != [2]int{wq, wk} {
			t.Errorf("layer %d (%s): Forward with Tq, Tk = %v, want %v", i, l.Role, got, [2]int{wq, wk})
		}
	}
}
