package sdk

import "github.com/attnlab/attnlab/kernels/tensor"

// Component is what every plugin implements.
type Component interface {
	// Describe returns the component's kind, name, version, parameters and
	// capabilities. It is called before Init, possibly many times.
	Describe() Description
}

// Attention is an attention variant. q is (B, Heads, T, HeadDim), k and v
// are (B, KVHeads, Tk, HeadDim); the output is like q.
type Attention interface {
	Component
	Init(cfg Config, spec AttentionSpec) error
	// Forward returns the attention output for layer. keyMask is nil or
	// has B*Tk flags. The returned tensor belongs to the component and is
	// valid until the next Forward of the same layer.
	Forward(layer int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error)
	// Backward returns the gradients of q, k and v given the gradient of
	// the output of the last Forward of layer. The returned tensors belong
	// to the component and are valid until the next Backward of the layer.
	Backward(layer int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error)
	// GradNormSq returns the sum of squared gradients of the component's
	// own parameters (0 if it has none) accumulated since the last Step.
	GradNormSq() (float64, error)
	// Step updates the component's own parameters, if any, and clears
	// their gradients.
	Step(args StepArgs) error
}

// Architecture is a model. It owns its parameters and optimiser state.
type Architecture interface {
	Component
	// Init builds the model for the objective's inputs. It must call
	// attn.Init once with the attention geometry, then calls attn for
	// every attention layer. seed drives parameter initialisation; opt is
	// the optimiser Step applies.
	Init(cfg Config, in InputSpec, opt Optimizer, attn AttentionLayers, seed uint64) error
	// Forward returns the model's output for the batch: logits (B, T,
	// Vocab) or (B, Classes). train enables dropout. The returned tensor
	// belongs to the component and is valid until the next Forward.
	Forward(batch *Batch, train bool) (*tensor.Tensor, error)
	// Backward accumulates parameter gradients given the gradient of the
	// output of the last Forward.
	Backward(dout *tensor.Tensor) error
	// GradNormSq returns the sum of squared parameter gradients.
	GradNormSq() (float64, error)
	// Step applies one optimiser step and clears the gradients.
	Step(args StepArgs) error
	// NumParams returns the number of trainable parameters.
	NumParams() int
}

// Objective is a training objective with its data.
type Objective interface {
	Component
	// Init prepares the data and returns what the architecture must
	// accept. batch is the number of examples per batch.
	Init(cfg Config, batch int, seed uint64) (InputSpec, error)
	// Batch returns batch number index of split. The same (split, index)
	// always gives the same batch; train and eval never share examples.
	Batch(split Split, index int) (*Batch, error)
	// Loss returns the mean loss of the model's output on the batch, the
	// gradient of that loss with respect to the output (valid until the
	// next Loss), and metrics such as "accuracy".
	Loss(out *tensor.Tensor, batch *Batch) (loss float32, dout *tensor.Tensor, metrics Metrics, err error)
}

// AttentionLayers is the attention an architecture sees: an Attention
// component already bound to its configuration by the harness (see Bind).
// Its parameters, if any, are stepped by the harness, not the architecture.
type AttentionLayers interface {
	Describe() Description
	Init(spec AttentionSpec) error
	Forward(layer int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error)
	Backward(layer int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error)
}

// Bind returns attn as the architecture sees it, with cfg and opt applied
// at Init.
func Bind(attn Attention, cfg Config, opt Optimizer) AttentionLayers {
	return &bound{attn: attn, cfg: cfg, opt: opt}
}

type bound struct {
	attn Attention
	cfg  Config
	opt  Optimizer
}

func (b *bound) Describe() Description { return b.attn.Describe() }

func (b *bound) Init(spec AttentionSpec) error {
	spec.Optimizer = b.opt
	return b.attn.Init(b.cfg, spec)
}

func (b *bound) Forward(layer int, q, k, v *tensor.Tensor, keyMask []bool) (*tensor.Tensor, error) {
	return b.attn.Forward(layer, q, k, v, keyMask)
}

func (b *bound) Backward(layer int, dout *tensor.Tensor) (dq, dk, dv *tensor.Tensor, err error) {
	return b.attn.Backward(layer, dout)
}
