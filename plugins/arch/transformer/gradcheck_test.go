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
			for _, p := range m.params {
				for i := range p.v.Data {
					p.v.Data[i] += float32(0.1 * r.Normal())
				}
			}
			batch := randomBatch(r, b, tt, vocab)
			if c.mask {
				// The second sequence is right-padded by one token.
				batch.KeyMask = ints(b, tt, func(bi, ti int) int32 {
					if bi == 1 && ti == tt-1 {
						return 0
					}
					return 1
				})
			}
			ce := newCrossEntropy(b, tt, vocab)
			// Every evaluation is the same training Forward (train=true),
			// so dropout draws the same masks each time.
			loss := func() float64 {
				m.trainForwards = 6
				logits, err := m.Forward(batch, true)
				if err != nil {
					t.Fatal(err)
				}
				l, _ := ce.loss(t, logits, batch)
				return l
			}
			loss()
			m.trainForwards = 6
			logits, err := m.Forward(batch, true)
			if err != nil {
				t.Fatal(err)
			}
			_, dlogits := ce.loss(t, logits, batch)
			if err := m.Backward(dlogits); err != nil {
				t.Fatal(err)
			}
			const h, atol, rtol = 5e-3, 2e-4, 2e-2
			for _, p := range m.params {
				grad := append([]float32(nil), p.g.Data...)
				// The largest gradient, and then random elements (some
				// have exactly zero gradient: the key bias, which shifts
				// all scores of a query alike, and unused positions).
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
		})
	}
}
