package maskedlm

import (
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Loss returns the mean cross-entropy of the logits out (B, T, Vocab) over
// the selected (masked) positions, whose targets are not sdk.IgnoreIndex,
// its gradient with respect to out (B, T, Vocab), zero at every other
// position, and the metrics "accuracy" (the fraction of selected positions
// whose largest logit is the original token; the first largest on ties),
// "tokens" (the number of selected positions) and, for dataset=text,
// "unigram_entropy" (nats per byte). With no selected position the loss,
// gradient and accuracy are 0. The gradient and the metrics map belong to
// the objective and are valid until the next Loss.
func (o *objective) Loss(out *tensor.Tensor, batch *sdk.Batch) (float32, *tensor.Tensor, sdk.Metrics, error) {
	if !o.ready {
		return 0, nil, nil, errorf("Loss called before a successful Init")
	}
	B, T := o.batch, o.seqLen
	if out == nil {
		return 0, nil, nil, errorf("Loss: out is nil, want logits (%d, %d, %d)", B, T, Vocab)
	}
	if len(out.Shape) != 3 || out.Shape[0] != B || out.Shape[1] != T || out.Shape[2] != Vocab || len(out.Data) != B*T*Vocab {
		return 0, nil, nil, errorf("Loss: out has shape %s and %d elements, want logits (batch %d, seq_len %d, vocab %d)",
			tensor.FormatShape(out.Shape), len(out.Data), B, T, Vocab)
	}
	if batch == nil || batch.Targets == nil {
		return 0, nil, nil, errorf("Loss: batch has no targets, want targets (%d, %d) as returned by Batch", B, T)
	}
	tg := batch.Targets
	if len(tg.Shape) != 2 || tg.Shape[0] != B || tg.Shape[1] != T || len(tg.Data) != B*T {
		return 0, nil, nil, errorf("Loss: targets have shape %s and %d elements, want (batch %d, seq_len %d)",
			tensor.FormatShape(tg.Shape), len(tg.Data), B, T)
	}

	mean, count, err := nn.CrossEntropyForward(o.losses, o.probs, out, tg.Data, sdk.IgnoreIndex)
	if err != nil {
		return 0, nil, nil, errorf("Loss: %w", err)
	}
	o.dout.Zero()
	if err := nn.CrossEntropyBackward(o.dout, o.probs, tg.Data, sdk.IgnoreIndex, 1); err != nil {
		return 0, nil, nil, errorf("Loss: %w", err)
	}
	correct := 0
	for r, t := range tg.Data {
		if t != sdk.IgnoreIndex && argmax(out.Data[r*Vocab:(r+1)*Vocab]) == int(t) {
			correct++
		}
	}
	acc := 0.0
	if count > 0 {
		acc = float64(correct) / float64(count)
	}
	o.metrics["accuracy"] = acc
	o.metrics["tokens"] = float64(count)
	return mean, o.dout, o.metrics, nil
}

// argmax returns the index of the first largest entry of x (NaNs are never
// the largest; an all-NaN row gives 0).
func argmax(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] || x[best] != x[best] && v == v {
			best = i
		}
	}
	return best
}
