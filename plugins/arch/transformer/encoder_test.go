package transformer

import (
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// An encoder is bidirectional: the first position's output depends on the
// last token, which a decoder's does not.
func TestEncoderSeesBothSides(t *testing.T) {
	const b, tt, vocab = 2, 6, 13
	for _, c := range []struct {
		in   sdk.InputSpec
		sees bool
	}{{maskedSpec(vocab, tt, b), true}, {tokensSpec(vocab, tt, b), false}} {
		m := build(t, sdk.Config{"layers": 2, "d_model": 16, "heads": 2}, c.in, sdk.DefaultOptimizer(), 8)
		first := func(last int32) float32 {
			batch := randomBatch(rng.New(9), b, tt, vocab)
			batch.Inputs.Data[tt-1] = last
			out, err := m.Forward(batch, false)
			if err != nil {
				t.Fatal(err)
			}
			return out.Data[0]
		}
		if sees := first(3) != first(4); sees != c.sees {
			t.Errorf("%s (%s): the first output depends on the last token: %v, want %v", c.in.TaskName(), m.hp.shape, sees, c.sees)
		}
	}
}

// markerBatch is b examples of a trivial classification: a class token 1
// first, then 2 to len-1 filler tokens (5..vocab-1) with one marker token
// (2, 3 or 4) among them, right-padded to t with junk; the class is the
// marker's. With cls pooling the class token must find the marker through
// attention; mean pooling sees it in the average.
func markerBatch(r *rng.RNG, b, t, vocab int) *sdk.Batch {
	batch := &sdk.Batch{Inputs: sdk.NewInts(b, t), KeyMask: sdk.NewInts(b, t), Targets: &sdk.Ints{Shape: []int{b}, Data: make([]int32, b)}}
	for bi := range b {
		n := 3 + r.Intn(t-2) // real tokens, 3..t
		at := 1 + r.Intn(n-1)
		class := r.Intn(3)
		batch.Targets.Data[bi] = int32(class)
		for ti := range t {
			tok, real := int32(5+r.Intn(vocab-5)), ti < n
			switch {
			case ti == 0:
				tok = 1
			case ti == at:
				tok = int32(2 + class)
			}
			batch.Inputs.Data[bi*t+ti] = tok
			if real {
				batch.KeyMask.Data[bi*t+ti] = 1
			}
		}
	}
	return batch
}

// An encoder learns the marker classification with either pooling.
func TestEncoderLearnsToClassify(t *testing.T) {
	const b, tt, vocab, classes, steps = 32, 8, 16, 3, 150
	for _, pool := range []string{"cls", "mean"} {
		t.Run(pool, func(t *testing.T) {
			m := build(t, sdk.Config{"layers": 2, "d_model": 32, "heads": 4, "pool": pool}, classifySpec(vocab, tt, b, classes), sdk.DefaultOptimizer(), 1)
			r := rng.New(2)
			ce := newClassEntropy(b, classes)
			var first, last float64
			for step := range steps {
				last = trainStep(t, m, ce, markerBatch(r, b, tt, vocab), step, 3e-3)
				if step == 0 {
					first = last
				}
			}
			eval := markerBatch(rng.New(3), b, tt, vocab)
			out, err := m.Forward(eval, false)
			if err != nil {
				t.Fatal(err)
			}
			right := 0
			for bi := range b {
				if argmax(out.Data[bi*classes:][:classes]) == int(eval.Targets.Data[bi]) {
					right++
				}
			}
			t.Logf("loss %.3f → %.4f in %d steps; %d/%d unseen examples right", first, last, steps, right, b)
			if right < b*95/100 {
				t.Errorf("%d of %d unseen examples classified right, want at least 95%%", right, b)
			}
		})
	}
}

// An encoder learns masked tokens of a counting sequence: one or two
// tokens replaced by the mask id 0 are predicted from the tokens around
// them (before and after).
func TestEncoderLearnsMaskedTokens(t *testing.T) {
	const b, tt, vocab, steps = 32, 8, 12, 300
	m := build(t, sdk.Config{"layers": 2, "d_model": 32, "heads": 4}, maskedSpec(vocab, tt, b), sdk.DefaultOptimizer(), 1)
	batchOf := func(r *rng.RNG) *sdk.Batch {
		batch := &sdk.Batch{Inputs: sdk.NewInts(b, tt), Targets: sdk.NewInts(b, tt)}
		for bi := range b {
			start, m1, m2 := r.Intn(vocab-1), r.Intn(tt), r.Intn(tt)
			for ti := range tt {
				tok := int32(1 + (start+ti)%(vocab-1)) // 1..vocab-1, counting up
				batch.Inputs.Data[bi*tt+ti], batch.Targets.Data[bi*tt+ti] = tok, sdk.IgnoreIndex
				if ti == m1 || ti == m2 {
					batch.Inputs.Data[bi*tt+ti], batch.Targets.Data[bi*tt+ti] = 0, tok
				}
			}
		}
		return batch
	}
	r := rng.New(2)
	ce := newCrossEntropy(b, tt, vocab)
	var first, last float64
	for step := range steps {
		last = trainStep(t, m, ce, batchOf(r), step, 3e-3)
		if step == 0 {
			first = last
		}
	}
	eval := batchOf(rng.New(3))
	out, err := m.Forward(eval, false)
	if err != nil {
		t.Fatal(err)
	}
	l, _ := ce.loss(t, out, eval)
	t.Logf("masked-token loss %.3f → %.4f in %d steps; unseen %.4f", first, last, steps, l)
	if !(l < 0.1*first) {
		t.Errorf("masked-token loss on unseen sequences %.4f, want below a tenth of the first %.4f", l, first)
	}
}
