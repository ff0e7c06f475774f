package transformer

import (
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// shapeRun is a model of one shape with a full-size training batch, a
// smaller one, and the loss for its outputs.
type shapeRun struct {
	name        string
	m           *model
	long, short *sdk.Batch
	ce          *crossEntropy
}

// shapeRuns builds one small model of every shape (and output) with
// dropout and padded batches; extras are added to every config.
func shapeRuns(t testing.TB, seed uint64, extras ...sdk.Config) []shapeRun {
	const b, tt, td, vocab, classes = 3, 12, 7, 40, 5
	cfg := func(extra sdk.Config) sdk.Config {
		c := sdk.Config{"layers": 2, "d_model": 32, "heads": 4, "dropout": 0.1}
		for k, v := range extra {
			c[k] = v
		}
		for _, e := range extras {
			for k, v := range e {
				c[k] = v
			}
		}
		return c
	}
	r := rng.New(seed)
	padded := func(bb, t int) *sdk.Batch {
		batch := randomBatch(r, bb, t, vocab)
		lens := []int{t, t - 1, t / 2}[:bb]
		batch.KeyMask = rightPadded(bb, t, lens)
		return batch
	}
	withClasses := func(batch *sdk.Batch) *sdk.Batch {
		bb := batch.Inputs.Shape[0]
		batch.Targets = &sdk.Ints{Shape: []int{bb}, Data: make([]int32, bb)}
		for i := range batch.Targets.Data {
			batch.Targets.Data[i] = int32(r.Intn(classes))
		}
		return batch
	}
	seq2seq := func(bb, te, tdd int) *sdk.Batch {
		batch := seq2seqBatch(r, bb, te, tdd, vocab)
		batch.KeyMask = rightPadded(bb, te, []int{te, te - 1, 2}[:bb])
		return batch
	}
	return []shapeRun{
		{"encoder/masked-lm", build(t, cfg(nil), maskedSpec(vocab, tt, b), sdk.DefaultOptimizer(), seed),
			padded(b, tt), padded(2, 9), newCrossEntropy(b, tt, vocab)},
		{"encoder/classify/cls", build(t, cfg(sdk.Config{"positions": "rope"}), classifySpec(vocab, tt, b, classes), sdk.DefaultOptimizer(), seed),
			withClasses(padded(b, tt)), withClasses(padded(2, 9)), newClassEntropy(b, classes)},
		{"encoder/classify/mean", build(t, cfg(sdk.Config{"pool": "mean"}), classifySpec(vocab, tt, b, classes), sdk.DefaultOptimizer(), seed),
			withClasses(padded(b, tt)), withClasses(padded(2, 9)), newClassEntropy(b, classes)},
		{"encoder-decoder", build(t, cfg(sdk.Config{"decoder_layers": 1, "tie_embeddings": false}), seq2seqSpec(vocab, tt, td, b), sdk.DefaultOptimizer(), seed),
			seq2seq(b, tt, td), seq2seq(2, 9, 4), newCrossEntropy(b, td, vocab)},
		{"encoder-decoder/rope", build(t, cfg(sdk.Config{"positions": "rope"}), seq2seqSpec(vocab, tt, td, b), sdk.DefaultOptimizer(), seed),
			seq2seq(b, tt, td), seq2seq(2, 9, 4), newCrossEntropy(b, td, vocab)},
	}
}

// Once warmed up, training steps of every shape (a full and a smaller
// batch), an evaluation Forward and greedy decoding allocate nothing.
func TestShapesAllocateNothing(t *testing.T) {
	for _, c := range shapeRuns(t, 1) {
		t.Run(c.name, func(t *testing.T) {
			step := 0
			var dec *sdk.Ints
			if c.long.DecoderInputs != nil {
				dec = sdk.NewInts(c.short.DecoderInputs.Shape...)
			}
			run := func() {
				trainStep(t, c.m, c.ce, c.long, step, 1e-3)
				trainStep(t, c.m, c.ce, c.short, step+1, 1e-3)
				step += 2
				if _, err := c.m.Forward(c.short, false); err != nil {
					t.Fatal(err)
				}
				if dec != nil {
					greedy(t, c.m, c.short, dec)
				}
			}
			run()
			if n := testing.AllocsPerRun(5, run); n != 0 {
				t.Errorf("a warmed-up training step and evaluation allocated %v times", n)
			}
		})
	}
}

// Losses and weights of every shape are bit-identical with 1 and 2 kernel
// threads.
func TestShapesDeterministicAcrossThreads(t *testing.T) {
	run := func(threads int) ([][]float64, [][]float32) {
		prev := parallel.SetThreads(threads)
		defer parallel.SetThreads(prev)
		var losses [][]float64
		var ws [][]float32
		for _, c := range shapeRuns(t, 2) {
			var l []float64
			for step := range 3 {
				l = append(l, trainStep(t, c.m, c.ce, c.long, step, 1e-3))
			}
			losses, ws = append(losses, l), append(ws, weights(c.m))
		}
		return losses, ws
	}
	l1, w1 := run(1)
	l2, w2 := run(2)
	for i := range l1 {
		for s := range l1[i] {
			if math.Float64bits(l1[i][s]) != math.Float64bits(l2[i][s]) {
				t.Fatalf("shape %d, step %d: loss %v with 1 thread, %v with 2", i, s, l1[i][s], l2[i][s])
			}
		}
		sameBits(t, "weights after 3 steps, 2 threads vs 1", w2[i], w1[i])
	}
}
