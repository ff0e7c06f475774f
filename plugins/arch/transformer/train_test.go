package transformer

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// nextTokenBatch is a fixed batch whose target at every position is the
// next token of a fixed sequence: ids[b, t] = (3t + 5b) mod vocab, so the
// next token is a function of the current one that a tiny model can learn.
func nextTokenBatch(b, t, vocab int) *sdk.Batch {
	tok := func(bi, ti int) int32 { return int32((3*ti + 5*bi) % vocab) }
	return &sdk.Batch{
		Inputs:  ints(b, t, tok),
		Targets: ints(b, t, func(bi, ti int) int32 { return tok(bi, ti+1) }),
	}
}

// A tiny model learns the next token of a fixed sequence in 100 steps,
// with AdamW and with SGD.
func TestTrainingLowersTheLoss(t *testing.T) {
	sgd := sdk.Optimizer{Name: "sgd", Momentum: 0.9}
	for _, c := range []struct {
		opt      sdk.Optimizer
		lr       float32
		maxRatio float64 // final loss / first loss
	}{
		{sdk.DefaultOptimizer(), 1e-2, 0.05},
		{sgd, 0.1, 0.2},
	} {
		t.Run(c.opt.Name, func(t *testing.T) {
			const b, tt, vocab = 2, 12, 11
			cfg := sdk.Config{"layers": 2, "d_model": 32, "heads": 4, "dropout": 0.05}
			m := build(t, cfg, tokensSpec(vocab, tt, b), c.opt, 1)
			batch, ce := nextTokenBatch(b, tt, vocab), newCrossEntropy(b, tt, vocab)
			var first, last float64
			for step := range 100 {
				last = trainStep(t, m, ce, batch, step, c.lr)
				if step == 0 {
					first = last
				}
			}
			t.Logf("loss %.4f → %.4f in 100 steps", first, last)
			if math.Abs(first-math.Log(vocab)) > 0.3 {
				t.Errorf("first loss %.3f, want about ln(%d) = %.3f at GPT-2's init", first, vocab, math.Log(vocab))
			}
			if !(last < c.maxRatio*first) {
				t.Errorf("loss went from %.4f to %.4f in 100 steps, want below %.4f", first, last, c.maxRatio*first)
			}
			logits, err := m.Forward(batch, false)
			if err != nil {
				t.Fatal(err)
			}
			if l, _ := ce.loss(t, logits, batch); !(l < c.maxRatio*first) {
				t.Errorf("evaluation loss %.4f after training", l)
			}
		})
	}
}

// Once warmed up, a training step (Forward, loss, Backward, GradNormSq,
// Step), a shorter batch and an evaluation Forward allocate nothing.
func TestStepAllocatesNothing(t *testing.T) {
	const b, tt, vocab = 3, 16, 50
	cfg := sdk.Config{"layers": 2, "d_model": 32, "heads": 4, "dropout": 0.1}
	m := build(t, cfg, tokensSpec(vocab, tt, b), sdk.DefaultOptimizer(), 2)
	r := rng.New(3)
	long := randomBatch(r, b, tt, vocab)
	long.KeyMask = ints(b, tt, func(bi, ti int) int32 {
		if ti >= tt-bi {
			return 0
		}
		return 1
	})
	short := randomBatch(r, 2, 9, vocab)
	ce := newCrossEntropy(b, tt, vocab)
	step := 0
	run := func() {
		trainStep(t, m, ce, long, step, 1e-3)
		trainStep(t, m, ce, short, step+1, 1e-3)
		step += 2
		if _, err := m.Forward(short, false); err != nil {
			t.Fatal(err)
		}
	}
	run()
	if n := testing.AllocsPerRun(5, run); n != 0 {
		t.Errorf("a warmed-up training step allocated %v times", n)
	}
}

// Losses and weights are bit-identical with 1 and 2 kernel threads.
func TestDeterministicAcrossThreads(t *testing.T) {
	run := func(threads int) ([]float64, []float32) {
		prev := parallel.SetThreads(threads)
		defer parallel.SetThreads(prev)
		const b, tt, vocab = 4, 32, 64
		cfg := sdk.Config{"layers": 2, "d_model": 64, "heads": 4, "dropout": 0.1}
		m := build(t, cfg, tokensSpec(vocab, tt, b), sdk.DefaultOptimizer(), 4)
		batch, ce := randomBatch(rng.New(5), b, tt, vocab), newCrossEntropy(b, tt, vocab)
		var losses []float64
		for step := range 4 {
			losses = append(losses, trainStep(t, m, ce, batch, step, 1e-3))
		}
		return losses, weights(m)
	}
	l1, w1 := run(1)
	l2, w2 := run(2)
	for i := range l1 {
		if math.Float64bits(l1[i]) != math.Float64bits(l2[i]) {
			t.Fatalf("step %d: loss %v with 1 thread, %v with 2", i, l1[i], l2[i])
		}
	}
	sameBits(t, "weights after 4 steps, 2 threads vs 1", w2, w1)
}

// The same seed gives the same initial weights and the same losses; a
// different seed gives different weights.
func TestSeedDeterminesEverything(t *testing.T) {
	const b, tt, vocab = 2, 8, 20
	cfg := sdk.Config{"layers": 2, "d_model": 16, "heads": 2, "dropout": 0.2}
	newModel := func(seed uint64) *model { return build(t, cfg, tokensSpec(vocab, tt, b), sdk.DefaultOptimizer(), seed) }
	a, c, other := newModel(9), newModel(9), newModel(10)
	sameBits(t, "initial weights, same seed", weights(c), weights(a))
	wa, wo := weights(a), weights(other)
	differ := false
	for i := range wa {
		if wa[i] != wo[i] && wa[i] != 0 && wa[i] != 1 {
			differ = true
			break
		}
	}
	if !differ {
		t.Error("seeds 9 and 10 gave the same initial weights")
	}
	batch, ce := randomBatch(rng.New(6), b, tt, vocab), newCrossEntropy(b, tt, vocab)
	for step := range 3 {
		la, lc := trainStep(t, a, ce, batch, step, 1e-3), trainStep(t, c, ce, batch, step, 1e-3)
		if math.Float64bits(la) != math.Float64bits(lc) {
			t.Fatalf("step %d: losses %v and %v from the same seed", step, la, lc)
		}
	}
	sameBits(t, "weights after 3 steps, same seed", weights(c), weights(a))
}

// A batch shorter than the model's sequence length (and smaller than its
// batch) gives exactly the logits and gradients of a model built for that
// shape from the same seed: the position table's first rows are the same
// draws, and the buffers are prefixes.
func TestShortBatchMatchesSmallerModel(t *testing.T) {
	const vocab = 13
	cfg := sdk.Config{"layers": 2, "d_model": 16, "heads": 4}
	big := build(t, cfg, tokensSpec(vocab, 20, 4), sdk.DefaultOptimizer(), 7)
	small := build(t, cfg, tokensSpec(vocab, 6, 3), sdk.DefaultOptimizer(), 7)
	batch := randomBatch(rng.New(8), 3, 6, vocab)
	ce := newCrossEntropy(3, 6, vocab)
	// Warm the big model up on a full-size batch first, so its buffers
	// hold stale values from a longer sequence.
	full := randomBatch(rng.New(9), 4, 20, vocab)
	if _, err := big.Forward(full, true); err != nil {
		t.Fatal(err)
	}
	for _, m := range []*model{big, small} {
		logits, err := m.Forward(batch, true)
		if err != nil {
			t.Fatal(err)
		}
		_, dlogits := ce.loss(t, logits, batch)
		if err := m.Backward(dlogits); err != nil {
			t.Fatal(err)
		}
	}
	sameBits(t, "logits", big.logits.Data, small.logits.Data)
	for i, p := range small.params {
		q := big.params[i]
		n := len(p.g.Data) // wpe: the small table is the big one's prefix
		sameBits(t, fmt.Sprintf("gradient of %s", p.name), q.g.Data[:n], p.g.Data)
		sameBits(t, fmt.Sprintf("initial %s", p.name), q.v.Data[:n], p.v.Data)
	}
}

// A key-padding mask reaches the attention: with the first token of a row
// masked out (left padding), changing that token changes nothing at the
// later positions, while without the mask it does.
func TestKeyMaskHidesPadding(t *testing.T) {
	const b, tt, vocab = 2, 6, 17
	m := build(t, sdk.Config{"layers": 2, "d_model": 16, "heads": 2}, tokensSpec(vocab, tt, b), sdk.DefaultOptimizer(), 5)
	logitsFor := func(first int32, masked bool) []float32 {
		batch := randomBatch(rng.New(6), b, tt, vocab)
		batch.Inputs.Data[tt] = first // row 1, position 0
		if masked {
			batch.KeyMask = ints(b, tt, func(bi, ti int) int32 {
				if bi == 1 && ti == 0 {
					return 0
				}
				return 1
			})
		}
		logits, err := m.Forward(batch, false)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), logits.Data[(tt+1)*vocab:]...) // row 1, positions 1..T-1
	}
	sameBits(t, "row 1 after the masked first token", logitsFor(3, true), logitsFor(4, true))
	if a, c := logitsFor(3, false), logitsFor(4, false); a[0] == c[0] {
		t.Error("without the mask the first token does not affect later positions: the test proves nothing")
	}
}

// Dropout acts in training only: evaluation Forwards are identical and
// equal to the model without dropout; training Forwards differ from them
// and from each other (each draws fresh masks).
func TestDropoutOnlyInTraining(t *testing.T) {
	const b, tt, vocab = 2, 8, 13
	in := tokensSpec(vocab, tt, b)
	with := build(t, sdk.Config{"layers": 1, "d_model": 16, "heads": 2, "dropout": 0.3}, in, sdk.DefaultOptimizer(), 3)
	without := build(t, sdk.Config{"layers": 1, "d_model": 16, "heads": 2}, in, sdk.DefaultOptimizer(), 3)
	batch := randomBatch(rng.New(4), b, tt, vocab)
	forward := func(m *model, train bool) []float32 {
		logits, err := m.Forward(batch, train)
		if err != nil {
			t.Fatal(err)
		}
		return append([]float32(nil), logits.Data...)
	}
	eval := forward(with, false)
	sameBits(t, "evaluation with dropout vs without", eval, forward(without, false))
	sameBits(t, "second evaluation", forward(with, false), eval)
	sameBits(t, "training Forward without dropout", forward(without, true), eval)
	tr1, tr2 := forward(with, true), forward(with, true)
	if tr1[0] == eval[0] || tr1[0] == tr2[0] {
		t.Errorf("training logits %v, %v and evaluation %v: dropout did not act or repeated its masks", tr1[0], tr2[0], eval[0])
	}
}
