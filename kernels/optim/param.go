package optim

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// Param is one trainable tensor and its gradient. Value and Grad must have
// the same shape; the optimiser updates Value.Data in place from Grad.Data.
type Param struct {
	Name  string         // for error messages, e.g. "h.0.attn.c_attn.weight"
	Value *tensor.Tensor // the parameter
	Grad  *tensor.Tensor // its gradient, same shape as Value

	// NoDecay exempts this parameter from weight decay (biases, norm
	// gains, often embeddings). PyTorch expresses the same thing with a
	// second parameter group whose weight_decay is 0.
	NoDecay bool
}

// Optimizer is what a training loop needs from SGD and AdamW.
type Optimizer interface {
	// Step applies one update with learning rate lr to every parameter,
	// reading the current gradients. It returns an error, and changes
	// nothing, if lr is negative, NaN or infinite.
	Step(lr float32) error
	// Params returns the parameters the optimiser updates.
	Params() []Param
	// Steps returns how many updates have been applied.
	Steps() int
}

// ConfigError reports an invalid hyper-parameter or parameter list. Its
// message names the constructor, the field, its value and what is allowed:
//
//	optim.NewAdamW: Beta2 = 1 is invalid: must be in [0, 1) (PyTorch default 0.999)
type ConfigError struct {
	Op    string // the function that rejected the value, e.g. "optim.NewAdamW"
	Field string // the offending field, e.g. "Beta2" or "params[3].Grad"
	Value any    // the offending value
	Want  string // what is allowed
}

func (e *ConfigError) Error() string {
	return fmt.Sprintf("%s: %s = %v is invalid: %s", e.Op, e.Field, e.Value, e.Want)
}

// checkParams validates a parameter list for constructor op.
func checkParams(op string, params []Param) error {
	if len(params) == 0 {
		return &ConfigError{Op: op, Field: "params", Value: "[]", Want: "need at least one parameter"}
	}
	seen := make(map[*float32]string, len(params))
	for i, p := range params {
		field := fmt.Sprintf("params[%d] (%q)", i, p.Name)
		if p.Value == nil || p.Grad == nil {
			return &ConfigError{Op: op, Field: field, Value: "nil tensor", Want: "Value and Grad must both be set"}
		}
		c := tensor.Check(op).Add(p.Name+".Value", p.Value).Add(p.Name+".Grad", p.Grad)
		if !tensor.SameShape(p.Value.Shape, p.Grad.Shape) {
			c.Failf("%s: Value and Grad shapes differ", field)
		}
		if err := c.Err(); err != nil {
			return err
		}
		if len(p.Value.Data) == 0 {
			continue
		}
		// The same storage twice would be updated twice per step.
		if prev, dup := seen[&p.Value.Data[0]]; dup {
			return &ConfigError{Op: op, Field: field, Value: "shared storage", Want: "each parameter must appear once; it shares its Value with " + prev}
		}
		seen[&p.Value.Data[0]] = field
	}
	return nil
}

// checkLR validates the learning rate given to Step.
func checkLR(op string, lr float32) error {
	if !(lr >= 0) || math.IsInf(float64(lr), 0) {
		return &ConfigError{Op: op, Field: "lr", Value: lr, Want: "must be finite and >= 0"}
	}
	return nil
}

// checkRange validates a hyper-parameter against [lo, hi) (or [lo, ∞) when
// hi is +Inf), rejecting NaN.
func checkRange(op, field string, v, lo, hi float64, hint string) error {
	if v >= lo && v < hi {
		return nil
	}
	want := fmt.Sprintf("must be in [%v, %v)", lo, hi)
	if math.IsInf(hi, 1) {
		want = fmt.Sprintf("must be finite and >= %v", lo)
	}
	if hint != "" {
		want += " (" + hint + ")"
	}
	return &ConfigError{Op: op, Field: field, Value: v, Want: want}
}

// ZeroGrad sets every gradient to zero. Backward functions accumulate into
// parameter gradients, so a training step starts with ZeroGrad.
func ZeroGrad(params []Param) {
	for _, p := range params {
		clear(p.Grad.Data)
	}
}

var (
	_ Optimizer = (*SGD)(nil)
	_ Optimizer = (*AdamW)(nil)
)
