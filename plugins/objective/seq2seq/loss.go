package seq2seq

import (
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
	return o.loss.Loss(out, batch)
}
