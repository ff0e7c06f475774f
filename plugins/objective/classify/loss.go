package classify

import (
	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Loss returns the mean cross-entropy of the class logits out (B, Classes)
// against the batch's targets (B), its gradient with respect to out, and
// the metric "accuracy" (the fraction of examples whose largest logit, the
// first on ties, is the target). The gradient and the metrics map belong
// to the objective and are valid until the next Loss.
func (o *objective) Loss(out *tensor.Tensor, batch *sdk.Batch) (float32, *tensor.Tensor, sdk.Metrics, error) {
	if !o.ready {
		return 0, nil, nil, errorf("Loss called before a successful Init")
	}
	B, K := o.batch, o.classes
	if out == nil {
		return 0, nil, nil, errorf("Loss: out is nil, want class logits (%d, %d)", B, K)
	}
	if len(out.Shape) != 2 || out.Shape[0] != B || out.Shape[1] != K || len(out.Data) != B*K {
		return 0, nil, nil, errorf("Loss: out has shape %s and %d elements, want class logits (batch %d, classes %d)",
			tensor.FormatShape(out.Shape), len(out.Data), B, K)
	}
	if batch == nil || batch.Targets == nil {
		return 0, nil, nil, errorf("Loss: batch has no targets, want class ids (%d) as returned by Batch", B)
	}
	tg := batch.Targets
	if len(tg.Shape) != 1 || tg.Shape[0] != B || len(tg.Data) != B {
		return 0, nil, nil, errorf("Loss: targets have shape %s and %d elements, want (batch %d)",
			tensor.FormatShape(tg.Shape), len(tg.Data), B)
	}

	mean, _, err := nn.CrossEntropyLoss(o.losses, o.dout, out, tg.Data, sdk.IgnoreIndex, 1)
	if err != nil {
		return 0, nil, nil, errorf("Loss: %w", err)
	}
	correct := 0
	for e, t := range tg.Data {
		if objectives.Argmax(out.Data[e*K:(e+1)*K]) == int(t) {
			correct++
		}
	}
	o.metrics["accuracy"] = float64(correct) / float64(B)
	return mean, o.dout, o.metrics, nil
}
