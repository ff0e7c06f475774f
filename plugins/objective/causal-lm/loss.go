package causallm

import (
	"fmt"

	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Loss returns the mean cross-entropy of the logits out (B, T, Vocab) over
// the targets of batch that are not sdk.IgnoreIndex, its gradient with
// respect to out (B, T, Vocab), and the metrics "accuracy" (the fraction of
// scored positions whose largest logit is the target; the first largest on
// ties) and "tokens" (the number of scored positions). With no scored
// position the loss, gradient and accuracy are 0. The gradient and the
// metrics map belong to the objective and are valid until the next Loss.
func (o *objective) Loss(out *tensor.Tensor, batch *sdk.Batch) (float32, *tensor.Tensor, sdk.Metrics, error) {
	if !o.ready {
		return 0, nil, nil, fmt.Errorf("objective \"causal-lm\": Loss called before a successful Init")
	}
	B, T := o.batch, o.seqLen
	if out == nil {
		return 0, nil, nil, fmt.Errorf("objective \"causal-lm\": Loss: out is nil, want logits (%d, %d, %d)", B, T, Vocab)
	}
	if !is3(out.Shape, B, T, Vocab) || len(out.Data) != B*T*Vocab {
		return 0, nil, nil, fmt.Errorf("objective \"causal-lm\": Loss: out has shape %s and %d elements, want logits (batch %d, seq_len %d, vocab %d)",
			tensor.FormatShape(out.Shape), len(out.Data), B, T, Vocab)
	}
	if batch == nil || batch.Targets == nil {
		return 0, nil, nil, fmt.Errorf("objective \"causal-lm\": Loss: batch has no targets, want targets (%d, %d) as returned by Batch", B, T)
	}
	tg := batch.Targets
	if len(tg.Shape) != 2 || tg.Shape[0] != B || tg.Shape[1] != T || len(tg.Data) != B*T {
		return 0, nil, nil, fmt.Errorf("objective \"causal-lm\": Loss: targets have shape %s and %d elements, want (batch %d, seq_len %d)",
			tensor.FormatShape(tg.Shape), len(tg.Data), B, T)
	}

	mean, count, err := nn.CrossEntropyForward(o.losses, o.probs, out, tg.Data, sdk.IgnoreIndex)
	if err != nil {
		return 0, nil, nil, fmt.Errorf("objective \"causal-lm\": Loss: %w", err)
	}
	o.dout.Zero()
	if err := nn.CrossEntropyBackward(o.dout, o.probs, tg.Data, sdk.IgnoreIndex, 1); err != nil {
		return 0, nil, nil, fmt.Errorf("objective \"causal-lm\": Loss: %w", err)
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

// is3 reports whether shape is (a, b, c).
func is3(shape []int, a, b, c int) bool {
	return len(shape) == 3 && shape[0] == a && shape[1] == b && shape[2] == c
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
