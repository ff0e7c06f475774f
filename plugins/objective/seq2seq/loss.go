package seq2seq

import (
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Loss returns the mean cross-entropy of the decoder logits out (B, U,
// Vocab) over the targets that are not sdk.IgnoreIndex, its gradient with
// respect to out, zero at ignored positions, and the metrics "accuracy"
// (the fraction of scored positions whose largest logit, the first on
// ties, is the target), "exact_match" (the fraction of examples whose
// scored positions are all right; an example with none counts as right)
// and "tokens" (the number of scored positions). Only out and the batch's
// Targets are read, so the harness can score greedy decodes with it. The
// gradient and the metrics map belong to the objective and are valid
// until the next Loss.
func (o *objective) Loss(out *tensor.Tensor, batch *sdk.Batch) (float32, *tensor.Tensor, sdk.Metrics, error) {
	if !o.ready {
		return 0, nil, nil, errorf("Loss called before a successful Init")
	}
	B, U := o.batch, o.targetLen
	if out == nil {
		return 0, nil, nil, errorf("Loss: out is nil, want decoder logits (%d, %d, %d)", B, U, Vocab)
	}
	if len(out.Shape) != 3 || out.Shape[0] != B || out.Shape[1] != U || out.Shape[2] != Vocab || len(out.Data) != B*U*Vocab {
		return 0, nil, nil, errorf("Loss: out has shape %s and %d elements, want decoder logits (batch %d, target_len %d, vocab %d)",
			tensor.FormatShape(out.Shape), len(out.Data), B, U, Vocab)
	}
	if batch == nil || batch.Targets == nil {
		return 0, nil, nil, errorf("Loss: batch has no targets, want targets (%d, %d) as returned by Batch", B, U)
	}
	tg := batch.Targets
	if len(tg.Shape) != 2 || tg.Shape[0] != B || tg.Shape[1] != U || len(tg.Data) != B*U {
		return 0, nil, nil, errorf("Loss: targets have shape %s and %d elements, want (batch %d, target_len %d)",
			tensor.FormatShape(tg.Shape), len(tg.Data), B, U)
	}

	mean, count, err := nn.CrossEntropyForward(o.losses, o.probs, out, tg.Data, sdk.IgnoreIndex)
	if err != nil {
		return 0, nil, nil, errorf("Loss: %w", err)
	}
	o.dout.Zero()
	if err := nn.CrossEntropyBackward(o.dout, o.probs, tg.Data, sdk.IgnoreIndex, 1); err != nil {
		return 0, nil, nil, errorf("Loss: %w", err)
	}
	correct, exact := 0, 0
	for e := range B {
		all := true
		for t := range U {
			r := e*U + t
			if tg.Data[r] == sdk.IgnoreIndex {
				continue
			}
			if argmax(out.Data[r*Vocab:(r+1)*Vocab]) == int(tg.Data[r]) {
				correct++
			} else {
				all = false
			}
		}
		if all {
			exact++
		}
	}
	acc := 0.0
	if count > 0 {
		acc = float64(correct) / float64(count)
	}
	o.metrics["accuracy"] = acc
	o.metrics["exact_match"] = float64(exact) / float64(B)
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
