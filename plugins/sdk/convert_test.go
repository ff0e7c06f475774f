package sdk

import (
	"reflect"
	"testing"
)

// The specs and batches of every task survive the protocol unchanged.
func TestSpecsAndBatchesRoundTrip(t *testing.T) {
	in := InputSpec{Vocab: 260, SeqLen: 16, Batch: 4, Output: "tokens", Task: TaskSeq2Seq, TargetLen: 17, Generate: true, BOS: 257}
	if got := fromInputSpec(toInputSpec(in)); !reflect.DeepEqual(got, in) {
		t.Errorf("InputSpec round trip: %+v, want %+v", got, in)
	}
	if got := (InputSpec{}).TaskName(); got != TaskCausalLM {
		t.Errorf("empty task reads as %q, want %q", got, TaskCausalLM)
	}
	as := AttentionSpec{Layers: 3, Heads: 4, KVHeads: 2, HeadDim: 8, MaxSeq: 16, Batch: 4, Seed: 7, Optimizer: DefaultOptimizer(),
		LayerSpecs: []AttentionLayer{{RoleSelf, false, 16, 16}, {RoleSelf, true, 17, 17}, {RoleCross, false, 17, 16}}}
	if got := fromAttentionSpec(toAttentionSpec(as)); !reflect.DeepEqual(got, as) {
		t.Errorf("AttentionSpec round trip: %+v, want %+v", got, as)
	}
	plain := AttentionSpec{Layers: 2, Heads: 2, KVHeads: 2, HeadDim: 4, MaxSeq: 9, Batch: 1, Causal: true}
	if got, want := plain.Layer(1), (AttentionLayer{RoleSelf, true, 9, 9}); got != want {
		t.Errorf("Layer of a spec without LayerSpecs = %+v, want %+v", got, want)
	}
	if err := plain.Check(); err != nil {
		t.Errorf("Check: %v", err)
	}

	m, err := openMemory(t.TempDir(), "test")
	if err != nil {
		t.Fatal(err)
	}
	defer m.close()
	b := &Batch{Inputs: NewInts(2, 3), Targets: NewInts(2, 4), DecoderInputs: NewInts(2, 4)}
	for i := range b.DecoderInputs.Data {
		b.Inputs.Data[i%6], b.Targets.Data[i], b.DecoderInputs.Data[i] = int32(i), int32(10+i), int32(20+i)
	}
	d, err := m.exportBatch(b, "test.batch")
	if err != nil {
		t.Fatal(err)
	}
	got, err := m.importBatch(d)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got.DecoderInputs, b.DecoderInputs) || !reflect.DeepEqual(got.Targets, b.Targets) || got.KeyMask != nil {
		t.Errorf("batch round trip: %+v, want %+v", got, b)
	}
}
