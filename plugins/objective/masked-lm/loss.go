package maskedlm

import (
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
	return o.loss.Loss(out, batch)
}
