package causallm

import (
	"fmt"

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
	return o.loss.Loss(out, batch)
}
