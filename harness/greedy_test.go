package harness

import (
	"context"
	"testing"
	"time"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/attention/full"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Fakes for greedy decoding: the "successor" model predicts, at every
// decoder position, the token after its input there (mod vocab), and the
// "count" objective's target is 1, 2, 3, ... after BOS 0. Teacher forcing
// feeds deliberately wrong decoder inputs (0, 9, 9, 9, ...), so only
// greedy decoding, which feeds the model its own predictions, gets every
// token right.
const fakeVocab, fakeLen = 12, 6

type successor struct{ out *tensor.Tensor }

func (*successor) Describe() sdk.Description {
	return sdk.Description{Kind: sdk.KindArchitecture, Name: "successor", Version: "1", Capabilities: []string{sdk.Stateless}}
}
func (m *successor) Init(_ sdk.Config, in sdk.InputSpec, _ sdk.Optimizer, attn sdk.AttentionLayers, _ uint64) error {
	m.out = tensor.New(in.Batch, in.TargetLen, in.Vocab)
	return attn.Init(sdk.AttentionSpec{Layers: 1, Heads: 1, KVHeads: 1, HeadDim: 1, MaxSeq: 1, Batch: 1})
}
func (m *successor) Forward(b *sdk.Batch, _ bool) (*tensor.Tensor, error) {
	m.out.Zero()
	for i, tok := range b.DecoderInputs.Data {
		m.out.Data[i*fakeVocab+int(tok+1)%fakeVocab] = 1
	}
	return m.out, nil
}
func (*successor) Backward(*tensor.Tensor) error { return nil }
func (*successor) GradNormSq() (float64, error)  { return 0, nil }
func (*successor) Step(sdk.StepArgs) error       { return nil }
func (*successor) NumParams() int                { return 0 }

type count struct {
	batch int
	dout  *tensor.Tensor
}

func (*count) Describe() sdk.Description {
	return sdk.Description{Kind: sdk.KindObjective, Name: "count", Version: "1"}
}
func (o *count) Init(_ sdk.Config, batch int, _ uint64) (sdk.InputSpec, error) {
	o.batch, o.dout = batch, tensor.New(batch, fakeLen, fakeVocab)
	return sdk.InputSpec{Vocab: fakeVocab, SeqLen: 3, Batch: batch, Output: "tokens", Task: sdk.TaskSeq2Seq,
		TargetLen: fakeLen, Generate: true, BOS: 0}, nil
}
func (o *count) Batch(sdk.Split, int) (*sdk.Batch, error) {
	b := &sdk.Batch{Inputs: sdk.NewInts(o.batch, 3), Targets: sdk.NewInts(o.batch, fakeLen), DecoderInputs: sdk.NewInts(o.batch, fakeLen)}
	for r := range o.batch {
		for c := range fakeLen {
			b.Targets.Data[r*fakeLen+c] = int32(c + 1)
			if c > 0 {
				b.DecoderInputs.Data[r*fakeLen+c] = 9
			}
		}
	}
	return b, nil
}
func (o *count) Loss(out *tensor.Tensor, b *sdk.Batch) (float32, *tensor.Tensor, sdk.Metrics, error) {
	right, exact := 0, 0
	for r := range o.batch {
		all := true
		for c := range fakeLen {
			i := r*fakeLen + c
			if argmax(out.Data[i*fakeVocab:(i+1)*fakeVocab]) == int(b.Targets.Data[i]) {
				right++
			} else {
				all = false
			}
		}
		if all {
			exact++
		}
	}
	return 1, o.dout, sdk.Metrics{"accuracy": float64(right) / float64(o.batch*fakeLen), "exact_match": float64(exact) / float64(o.batch)}, nil
}

func TestGreedyDecodingFeedsPredictionsBack(t *testing.T) {
	l := &InProcess{Registry: Registry{
		Attention:    map[string]func() sdk.Attention{"full": full.New},
		Architecture: map[string]func() sdk.Architecture{"successor": func() sdk.Architecture { return &successor{} }},
		Objective:    map[string]func() sdk.Objective{"count": func() sdk.Objective { return &count{} }},
	}}
	spec := TrialSpec{ID: "greedy", Seed: 1,
		Objective: ComponentSpec{Plugin: "count"}, Architecture: ComponentSpec{Plugin: "successor"}, Attention: ComponentSpec{Plugin: "full"},
		Train: Train{Steps: 1, Batch: 2, LR: 1, Schedule: "constant", Optimizer: sdk.DefaultOptimizer(), EvalBatches: 1, Threads: 1, CallTimeout: 10 * time.Second}}
	res := Run(context.Background(), l, spec, nil, nil)
	if res.Err != nil {
		t.Fatal(res.Err)
	}
	want := map[string]float64{
		"eval/accuracy":           1.0 / fakeLen, // teacher forcing: only position 0 (after BOS) is right
		"eval/exact_match":        0,
		"eval/greedy_accuracy":    1,
		"eval/greedy_exact_match": 1,
	}
	for k, v := range want {
		if got, ok := res.Summaries[k]; !ok || got != v {
			t.Errorf("%s = %v (present %v), want %v", k, got, ok, v)
		}
	}
}
