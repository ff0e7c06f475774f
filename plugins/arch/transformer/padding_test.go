package transformer

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// closeTo fails unless got and want agree within tol·(1 + |want|) at
// every element, naming the first difference and the largest one.
func closeTo(t *testing.T, what string, got, want []float32, tol float64) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("%s: %d values, want %d", what, len(got), len(want))
	}
	worst, at := 0.0, -1
	for i := range got {
		d := math.Abs(float64(got[i]) - float64(want[i]))
		if !(d <= tol*(1+math.Abs(float64(want[i])))) && (at < 0 || d > worst) {
			worst, at = d, i
		}
	}
	if at >= 0 {
		t.Errorf("%s: element %d is %v, want %v (difference %.3g; tolerance %.1g relative)", what, at, got[at], want[at], worst, tol)
	}
}

// paddingCase is one model shape with a batch of examples of mixed
// lengths, padded on the right with junk tokens.
type paddingCase struct {
	name    string
	cfg     sdk.Config
	in      sdk.InputSpec
	encLens []int // real tokens of each example's inputs
	decLens []int // real decoder tokens (encoder-decoder only)
}

// A batch of examples of mixed lengths gives, for each example, the same
// outputs at its real positions and the same loss as that example alone
// (unpadded, batch of one): padding never reaches a real token, through
// self-attention, cross-attention or pooling. The loss of the batch is the
// token-weighted mean of the examples' losses.
func TestPaddingDoesNotChangeResults(t *testing.T) {
	const vocab, classes = 13, 3
	small := func(extra sdk.Config) sdk.Config {
		cfg := sdk.Config{"layers": 2, "d_model": 16, "heads": 2, "init_std": 0.3}
		for k, v := range extra {
			cfg[k] = v
		}
		return cfg
	}
	for _, c := range []paddingCase{
		{"encoder/masked-lm", small(nil), maskedSpec(vocab, 7, 3), []int{7, 4, 2}, nil},
		{"encoder/masked-lm/rope", small(sdk.Config{"positions": "rope"}), maskedSpec(vocab, 7, 3), []int{3, 7, 1}, nil},
		{"encoder/classify/cls", small(sdk.Config{"pool": "cls"}), classifySpec(vocab, 7, 3, classes), []int{7, 4, 2}, nil},
		{"encoder/classify/mean", small(sdk.Config{"pool": "mean"}), classifySpec(vocab, 7, 3, classes), []int{5, 7, 1}, nil},
		{"decoder/causal-lm", small(nil), tokensSpec(vocab, 7, 3), []int{7, 4, 2}, nil},
		{"decoder/classify/mean", small(sdk.Config{"pool": "mean", "shape": "decoder"}), classifySpec(vocab, 7, 3, classes), []int{2, 7, 5}, nil},
		{"encoder-decoder", small(sdk.Config{"decoder_layers": 1}), seq2seqSpec(vocab, 6, 5, 3), []int{6, 3, 1}, []int{5, 2, 4}},
		{"encoder-decoder/rope", small(sdk.Config{"positions": "rope"}), seq2seqSpec(vocab, 6, 5, 3), []int{2, 6, 4}, []int{3, 5, 1}},
	} {
		t.Run(c.name, func(t *testing.T) { checkPadding(t, c, vocab) })
	}
}

func checkPadding(t *testing.T, c paddingCase, vocab int) {
	m := build(t, c.cfg, c.in, sdk.DefaultOptimizer(), 41)
	r := rng.New(42)
	b := len(c.encLens)
	te, td := c.in.SeqLen, c.in.TargetLen
	full := randomBatch(r, b, te, vocab)
	full.KeyMask = rightPadded(b, te, c.encLens)
	// Targets: the real positions' (masked-LM style) or the class.
	realT, lens := te, c.encLens
	if c.decLens != nil {
		full.DecoderInputs = ints(b, td, func(int, int) int32 { return int32(r.Intn(vocab)) })
		full.Targets = ints(b, td, func(int, int) int32 { return int32(r.Intn(vocab)) })
		realT, lens = td, c.decLens
	}
	for bi := range b {
		for ti := lens[bi]; ti < realT; ti++ {
			full.Targets.Data[bi*realT+ti] = sdk.IgnoreIndex
		}
	}
	newCE := func(bb, tt int) *crossEntropy { return newCrossEntropy(bb, tt, vocab) }
	if c.in.Classes > 0 {
		full.Targets = &sdk.Ints{Shape: []int{b}, Data: make([]int32, b)}
		for bi := range b {
			full.Targets.Data[bi] = int32(r.Intn(c.in.Classes))
		}
		newCE = func(bb, _ int) *crossEntropy { return newClassEntropy(bb, c.in.Classes) }
	}
	out, err := m.Forward(full, false)
	if err != nil {
		t.Fatal(err)
	}
	got := append([]float32(nil), out.Data...)
	batchLoss, _ := newCE(b, realT).loss(t, out, full)

	var weighted, weights float64
	for bi := range b {
		one := slice(full, bi, c.encLens[bi], c.decLens)
		out, err := m.Forward(one, false)
		if err != nil {
			t.Fatal(err)
		}
		// Outputs: the example's row, real positions only.
		row := got[bi*len(got)/b:][:len(out.Data)]
		closeTo(t, fmt.Sprintf("example %d's outputs in the batch vs alone", bi), row, out.Data, 2e-5)
		l, _ := newCE(1, lens[bi]).loss(t, out, one)
		n := 0 // targets with a loss
		for _, tg := range one.Targets.Data {
			if tg != sdk.IgnoreIndex {
				n++
			}
		}
		weighted += l * float64(n)
		weights += float64(n)
	}
	if want := weighted / weights; math.Abs(batchLoss-want) > 1e-5*math.Abs(want) {
		t.Errorf("loss of the padded batch %.7g, of the examples one by one %.7g", batchLoss, want)
	}
	if c.in.TaskName() == sdk.TaskCausalLM {
		return // right padding is after every real token of a causal model
	}
	// Without the key mask the junk does reach the real tokens: the test
	// above proves something.
	full.KeyMask = nil
	out, err = m.Forward(full, false)
	if err != nil {
		t.Fatal(err)
	}
	differ := false
	for i := range got {
		differ = differ || math.Abs(float64(got[i]-out.Data[i])) > 1e-3
	}
	if !differ {
		t.Error("the outputs are the same without the key mask")
	}
}

// slice returns example bi of a padded batch alone and unpadded: its first
// encLen inputs (and decLens[bi] decoder inputs and targets), no key mask.
func slice(full *sdk.Batch, bi, encLen int, decLens []int) *sdk.Batch {
	te := full.Inputs.Shape[1]
	one := &sdk.Batch{Inputs: &sdk.Ints{Shape: []int{1, encLen}, Data: full.Inputs.Data[bi*te : bi*te+encLen]}}
	switch {
	case decLens != nil:
		td, n := full.DecoderInputs.Shape[1], decLens[bi]
		one.DecoderInputs = &sdk.Ints{Shape: []int{1, n}, Data: full.DecoderInputs.Data[bi*td : bi*td+n]}
		one.Targets = &sdk.Ints{Shape: []int{1, n}, Data: full.Targets.Data[bi*td : bi*td+n]}
	case len(full.Targets.Shape) == 1:
		one.Targets = &sdk.Ints{Shape: []int{1}, Data: full.Targets.Data[bi : bi+1]}
	default:
		one.Targets = &sdk.Ints{Shape: []int{1, encLen}, Data: full.Targets.Data[bi*te : bi*te+encLen]}
	}
	return one
}
