package transformer

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Backward's parameter gradients match central finite differences of the
// mean cross-entropy, on a sample of elements of every parameter tensor.
//
// The model is tiny (vocab 11, d_model 8, 2 heads, batch 2, T 5) and its
// parameters are randomised well beyond GPT-2's init (std 0.4, biases and
// gains perturbed), so every path carries gradients far above the
// finite-difference noise: float32 losses of about 2 have rounding noise
// near 1e-7, which a step of h = 5e-3 turns into about 1e-5 of gradient
// error, and the truncation error is O(h²).
func TestGradientsMatchFiniteDifferences(t *testing.T) {
	cases := []struct {
		layers, seqLen int
		tied           bool
		dropout        float64
		mask           bool
		positions      string
	}{
		{2, 5, true, 0, false, "learned"},
		{1, 7, false, 0.25, true, "learned"}, // T < SeqLen, untied head, dropout, padding
		{2, 5, false, 0, true, "learned"},
		{2, 7, true, 0, true, "rope"},
		{1, 5, false, 0, false, "sinusoidal"},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("layers=%d/seq=%d/tied=%v/dropout=%v/mask=%v/positions=%s", c.layers, c.seqLen, c.tied, c.dropout, c.mask, c.positions), func(t *testing.T) {
			const b, tt, vocab = 2, 5, 11
			cfg := sdk.Config{"layers": c.layers, "d_model": 8, "heads": 2, "init_std": 0.4, "tie_embeddings": c.tied, "dropout": c.dropout, "positions": c.positions}
			m := build(t, cfg, tokensSpec(vocab, c.seqLen, b), sdk.DefaultOptimizer(), 11)
			r := rng.New(12)
			batch := randomBatch(r, b, tt, vocab)
			if c.mask {
				// The second sequence is right-padded by one token.
				batch.KeyMask = rightPadded(b, tt, []int{tt, tt - 1})
			}
			checkGradients(t, m, r, batch, newCrossEntropy(b, tt, vocab))
		})
	}
}

// rightPadded returns a (b, t) key mask whose row i has lens[i] real
// tokens followed by padding.
func rightPadded(b, t int, lens []int) *sdk.Ints {
	return ints(b, t, func(bi, ti int) int32 {
		if ti < lens[bi] {
			return 1
		}
		return 0
	})
}

// checkGradients perturbs m's parameters (so that every path carries
// gradients well above the finite-difference noise), runs one Backward of
// the loss ce on batch, and compares every parameter tensor's gradient
// with central finite differences at its largest element and at five
// random ones. Every evaluation is the same training Forward (train=true,
// the same dropout masks).
func checkGradients(t *testing.T, m *model, r *rng.RNG, batch *sdk.Batch, ce *crossEntropy) {
	t.Helper()
	for _, p := range m.params {
		for i := range p.v.Data {
			p.v.Data[i] += float32(0.1 * r.Normal())
		}
	}
	loss := func() float64 {
		m.trainForwards = 6
		out, err := m.Forward(batch, true)
		if err != nil {
			t.Fatal(err)
		}
		l, _ := ce.loss(t, out, batch)
		return l
	}
	loss()
	m.trainForwards = 6
	out, err := m.Forward(batch, true)
	if err != nil {
		t.Fatal(err)
	}
	_, dout := ce.loss(t, out, batch)
	if err := m.Backward(dout); err != nil {
		t.Fatal(err)
	}
	const h, atol, rtol = 5e-3, 2e-4, 2e-2
	for _, p := range m.params {
		grad := append([]float32(nil), p.g.Data...)
		// The largest gradient, and then random elements (some have
		// exactly zero gradient: the key bias, which shifts all scores
		// of a query alike, and unused positions).
		top := 0
		for i, g := range grad {
			if math.Abs(float64(g)) > math.Abs(float64(grad[top])) {
				top = i
			}
		}
		if largest := math.Abs(float64(grad[top])); largest < 20*atol {
			t.Errorf("%s: largest gradient %.3g is too small to check", p.name, largest)
		}
		for k := range min(6, len(p.v.Data)) {
			i := top
			if k > 0 {
				i = r.Intn(len(p.v.Data))
			}
			x := p.v.Data[i]
			hi, lo := x+h, x-h
			p.v.Data[i] = hi
			fp := loss()
			p.v.Data[i] = lo
			fm := loss()
			p.v.Data[i] = x
			num := (fp - fm) / (float64(hi) - float64(lo))
			ana := float64(grad[i])
			if math.Abs(num-ana) > atol+rtol*max(math.Abs(num), math.Abs(ana)) {
				t.Errorf("%s[%d]: Backward gives %.6g, finite differences %.6g", p.name, i, ana, num)
			}
		}
	}
}

// The encoder's gradients, per-token (masked LM, tied and untied head) and
// pooled (classification with cls and mean pooling), with padding.
func TestEncoderGradientsMatchFiniteDifferences(t *testing.T) {
	const b, tt, vocab, classes = 3, 6, 11, 4
	lens := []int{6, 4, 2}
	for _, c := range []struct {
		name string
		cfg  sdk.Config
		in   sdk.InputSpec
	}{
		{"masked-lm/tied", sdk.Config{"layers": 2}, maskedSpec(vocab, tt, b)},
		{"masked-lm/untied/rope/dropout", sdk.Config{"layers": 1, "tie_embeddings": false, "positions": "rope", "dropout": 0.2}, maskedSpec(vocab, tt+2, b)},
		{"classify/cls", sdk.Config{"layers": 2, "pool": "cls"}, classifySpec(vocab, tt, b, classes)},
		{"classify/mean/sinusoidal", sdk.Config{"layers": 2, "pool": "mean", "positions": "sinusoidal"}, classifySpec(vocab, tt, b, classes)},
		{"classify/decoder/mean", sdk.Config{"layers": 2, "pool": "mean", "shape": "decoder"}, classifySpec(vocab, tt, b, classes)},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg["d_model"], c.cfg["heads"], c.cfg["init_std"] = 8, 2, 0.4
			m := build(t, c.cfg, c.in, sdk.DefaultOptimizer(), 21)
			r := rng.New(22)
			batch := randomBatch(r, b, tt, vocab)
			batch.KeyMask = rightPadded(b, tt, lens)
			ce := newCrossEntropy(b, tt, vocab)
			if c.in.Classes > 0 {
				batch.Targets = ints(b, 1, func(bi, _ int) int32 { return int32(r.Intn(classes)) })
				batch.Targets.Shape = []int{b}
				ce = newClassEntropy(b, classes)
			} else {
				for i := range batch.Targets.Data {
					if batch.KeyMask.Data[i] == 0 {
						batch.Targets.Data[i] = sdk.IgnoreIndex
					}
				}
			}
			checkGradients(t, m, r, batch, ce)
		})
	}
}

// The encoder-decoder's gradients, every parameter of the encoder included
// (they reach the loss only through cross-attention), with a padded
// encoder input, for several depths and position schemes.
func TestEncoderDecoderGradientsMatchFiniteDifferences(t *testing.T) {
	const b, te, td, vocab = 2, 6, 5, 11
	for _, c := range []struct {
		name string
		cfg  sdk.Config
	}{
		{"learned/tied", sdk.Config{"layers": 1, "decoder_layers": 2}},
		{"rope/untied/dropout", sdk.Config{"layers": 2, "decoder_layers": 1, "positions": "rope", "tie_embeddings": false, "dropout": 0.2}},
		{"sinusoidal", sdk.Config{"layers": 1, "positions": "sinusoidal"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			c.cfg["d_model"], c.cfg["heads"], c.cfg["init_std"] = 8, 2, 0.4
			m := build(t, c.cfg, seq2seqSpec(vocab, te+1, td+1, b), sdk.DefaultOptimizer(), 31)
			r := rng.New(32)
			batch := seq2seqBatch(r, b, te, td, vocab)
			batch.KeyMask = rightPadded(b, te, []int{te, te - 2})
			checkGradients(t, m, r, batch, newCrossEntropy(b, td, vocab))
		})
	}
}

// seq2seqBatch has random encoder inputs (b, te), decoder inputs (b, td)
// starting with BOS 0, and random targets.
func seq2seqBatch(r *rng.RNG, b, te, td, vocab int) *sdk.Batch {
	return &sdk.Batch{
		Inputs: ints(b, te, func(int, int) int32 { return int32(1 + r.Intn(vocab-1)) }),
		DecoderInputs: ints(b, td, func(_, ti int) int32 {
			if ti == 0 {
				return 0
			}
			return int32(1 + r.Intn(vocab-1))
		}),
		Targets: ints(b, td, func(int, int) int32 { return int32(r.Intn(vocab)) }),
	}
}
