package sdk

import (
	"fmt"
	"sort"
	"strings"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// Kind is a component kind.
type Kind string

const (
	KindAttention    Kind = "attention"
	KindArchitecture Kind = "arch"
	KindObjective    Kind = "objective"
)

// ProtocolVersion is the plugin protocol this SDK speaks (plugins/proto/v1).
const ProtocolVersion = 1

// ParamType is the type of a configuration parameter.
type ParamType string

const (
	Int    ParamType = "int"
	Float  ParamType = "float"
	String ParamType = "string"
	Bool   ParamType = "bool"
)

// Param describes one configuration parameter of a component.
type Param struct {
	Name    string
	Type    ParamType
	Default any      // int64, float64, string or bool; nil means required
	Doc     string   // one line
	Choices []string // for String: the allowed values, if restricted
	Min     *float64 // for Int and Float: inclusive bounds, if any
	Max     *float64
}

// Description is what a component answers to Describe.
type Description struct {
	Kind         Kind
	Name         string
	Version      string
	Doc          string
	Params       []Param
	Capabilities []string // e.g. "causal", "padding_mask", "kv_heads", "stateless"
}

// Stateless is the capability of a component without trainable
// parameters: the harness then skips its GradNormSq and Step calls, which
// across a process boundary are two round trips per step.
const Stateless = "stateless"

// Has reports whether the description lists capability c.
func (d Description) Has(c string) bool {
	for _, x := range d.Capabilities {
		if x == c {
			return true
		}
	}
	return false
}

// Config holds a component's resolved parameters: every parameter of its
// Description, with defaults filled in. Values are int64, float64, string
// or bool.
type Config map[string]any

// Int returns parameter name as an int; it panics if the value is missing
// or not an integer, which Resolve rules out.
func (c Config) Int(name string) int { return int(c[name].(int64)) }

// Float returns parameter name as a float64 (integers are converted).
func (c Config) Float(name string) float64 {
	switch v := c[name].(type) {
	case float64:
		return v
	case int64:
		return float64(v)
	}
	panic(fmt.Sprintf("sdk.Config: %q is %T, not a number", name, c[name]))
}

// String returns parameter name as a string.
func (c Config) String(name string) string { return c[name].(string) }

// Bool returns parameter name as a bool.
func (c Config) Bool(name string) bool { return c[name].(bool) }

// Resolve checks raw values (as decoded from YAML: ints, floats, strings,
// bools) against the description's parameters, fills in defaults, and
// returns the resolved Config. The error names the component, the
// parameter, what was given and what was expected; unknown parameters are
// errors, with the known ones listed.
func (d Description) Resolve(raw map[string]any) (Config, error) {
	known := map[string]Param{}
	for _, p := range d.Params {
		known[p.Name] = p
	}
	var unknown []string
	for k := range raw {
		if _, ok := known[k]; !ok {
			unknown = append(unknown, k)
		}
	}
	if len(unknown) > 0 {
		sort.Strings(unknown)
		names := make([]string, 0, len(d.Params))
		for _, p := range d.Params {
			names = append(names, p.Name)
		}
		return nil, fmt.Errorf("%s %q has no parameter %s (it has: %s)", d.Kind, d.Name, quoteJoin(unknown), strings.Join(names, ", "))
	}
	cfg := Config{}
	for _, p := range d.Params {
		v, ok := raw[p.Name]
		if !ok {
			if p.Default == nil {
				return nil, fmt.Errorf("%s %q: parameter %q (%s) is required: %s", d.Kind, d.Name, p.Name, p.Type, p.Doc)
			}
			v = p.Default
		}
		cv, err := p.convert(v)
		if err != nil {
			return nil, fmt.Errorf("%s %q: parameter %q: %v", d.Kind, d.Name, p.Name, err)
		}
		cfg[p.Name] = cv
	}
	return cfg, nil
}

func quoteJoin(xs []string) string {
	q := make([]string, len(xs))
	for i, x := range xs {
		q[i] = fmt.Sprintf("%q", x)
	}
	return strings.Join(q, ", ")
}

// convert checks v against the parameter's type, choices and bounds.
func (p Param) convert(v any) (any, error) {
	var out any
	switch p.Type {
	case Int:
		switch x := v.(type) {
		case int:
			out = int64(x)
		case int64:
			out = x
		case int32:
			out = int64(x)
		case float64:
			if x != float64(int64(x)) {
				return nil, fmt.Errorf("got %v, want an integer", x)
			}
			out = int64(x)
		default:
			return nil, fmt.Errorf("got %v (%T), want an integer", v, v)
		}
	case Float:
		switch x := v.(type) {
		case float64:
			out = x
		case float32:
			out = float64(x)
		case int:
			out = float64(x)
		case int64:
			out = float64(x)
		default:
			return nil, fmt.Errorf("got %v (%T), want a number", v, v)
		}
	case String:
		s, ok := v.(string)
		if !ok {
			return nil, fmt.Errorf("got %v (%T), want a string", v, v)
		}
		if len(p.Choices) > 0 && !contains(p.Choices, s) {
			return nil, fmt.Errorf("got %q, want one of %s", s, strings.Join(p.Choices, ", "))
		}
		out = s
	case Bool:
		b, ok := v.(bool)
		if !ok {
			return nil, fmt.Errorf("got %v (%T), want true or false", v, v)
		}
		out = b
	default:
		return nil, fmt.Errorf("unknown parameter type %q", p.Type)
	}
	if p.Type == Int || p.Type == Float {
		var f float64
		if i, ok := out.(int64); ok {
			f = float64(i)
		} else {
			f = out.(float64)
		}
		if p.Min != nil && f < *p.Min {
			return nil, fmt.Errorf("got %v, want at least %v", f, *p.Min)
		}
		if p.Max != nil && f > *p.Max {
			return nil, fmt.Errorf("got %v, want at most %v", f, *p.Max)
		}
	}
	return out, nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// Bound returns a pointer to v, for Param.Min and Param.Max.
func Bound(v float64) *float64 { return &v }

// Ints is an integer tensor (token ids, targets, masks), row-major.
type Ints struct {
	Shape []int
	Data  []int32
}

// NewInts returns a zeroed integer tensor.
func NewInts(shape ...int) *Ints {
	return &Ints{Shape: append([]int(nil), shape...), Data: make([]int32, tensor.Numel(shape))}
}

// InputSpec is what an objective tells the architecture about its data.
type InputSpec struct {
	Vocab   int // token vocabulary (byte-level: 256 plus specials)
	SeqLen  int // tokens per example (the encoder's, for seq2seq)
	Batch   int // examples per batch
	Classes int // > 0 for classification objectives: outputs are (B, Classes)
	// Output is "tokens" (one logit vector per position, (B, T, Vocab)) or
	// "classes" (one per example, (B, Classes)).
	Output string
	// Task says which model shapes can serve the objective: TaskCausalLM
	// (a decoder), TaskMaskedLM (an encoder), TaskSeq2Seq (an
	// encoder-decoder) or TaskClassify (an encoder or a decoder with a
	// pooled output). Empty means TaskCausalLM.
	Task string
	// TargetLen is, for TaskSeq2Seq, the decoder's tokens per example:
	// Batch.DecoderInputs and the output are (B, TargetLen).
	TargetLen int
	// Generate asks the harness to evaluate by greedy decoding as well as
	// teacher forcing (see the harness's runner); BOS is the start token
	// the decoder inputs begin with.
	Generate bool
	BOS      int
}

// The tasks of InputSpec.Task.
const (
	TaskCausalLM = "causal-lm"
	TaskMaskedLM = "masked-lm"
	TaskSeq2Seq  = "seq2seq"
	TaskClassify = "classify"
)

// TaskName returns s.Task, with the empty task read as TaskCausalLM.
func (s InputSpec) TaskName() string {
	if s.Task == "" {
		return TaskCausalLM
	}
	return s.Task
}

// Split names a data split.
type Split string

const (
	Train Split = "train"
	Eval  Split = "eval"
)

// Batch is one batch of examples. Inputs are token ids (B, T); Targets
// depend on the objective ((B, T) for language modelling, with
// IgnoreIndex for positions without a loss; (B) for classification).
// KeyMask, if set, is (B, T) with 1 for real tokens and 0 for padding.
type Batch struct {
	Inputs  *Ints
	Targets *Ints
	KeyMask *Ints
	// DecoderInputs is, for seq2seq, the decoder's teacher-forced input
	// (B, TargetLen): BOS followed by the targets shifted right. Nil
	// otherwise. Targets are then (B, TargetLen).
	DecoderInputs *Ints
}

// IgnoreIndex marks a target position that carries no loss.
const IgnoreIndex = -100

// AttentionSpec is what an architecture tells its attention component.
type AttentionSpec struct {
	Layers  int    // attention layers that will call Forward with layer 0..Layers-1
	Heads   int    // query heads
	KVHeads int    // key/value heads (== Heads unless grouped-query attention)
	HeadDim int    // per-head dimension
	MaxSeq  int    // longest sequence Forward will see
	Batch   int    // batch size
	Causal  bool   // decoder self-attention
	Seed    uint64 // for components with random parameters or features
	// LayerSpecs has one entry per layer when the layers differ (an
	// encoder-decoder: encoder self-attention, decoder self-attention and
	// cross-attention, whose queries and keys have different lengths).
	// Empty: every layer is self-attention with Causal and MaxSeq. Use
	// Layer to read a layer's spec either way.
	LayerSpecs []AttentionLayer
	// Optimizer applies to the component's own parameters, if any.
	Optimizer Optimizer
}

// AttentionLayer describes one attention layer.
type AttentionLayer struct {
	Role   string // RoleSelf or RoleCross
	Causal bool
	MaxQ   int // longest query sequence
	MaxK   int // longest key sequence
}

// The roles of AttentionLayer.
const (
	RoleSelf  = "self"
	RoleCross = "cross"
)

// Layer returns layer i's spec: LayerSpecs[i], or self-attention with
// Causal and MaxSeq when LayerSpecs is empty.
func (s AttentionSpec) Layer(i int) AttentionLayer {
	if i >= 0 && i < len(s.LayerSpecs) {
		return s.LayerSpecs[i]
	}
	return AttentionLayer{Role: RoleSelf, Causal: s.Causal, MaxQ: s.MaxSeq, MaxK: s.MaxSeq}
}

// Check reports an inconsistent spec: LayerSpecs of the wrong length,
// non-positive sizes, heads not a multiple of KVHeads, a cross-attention
// layer marked causal.
func (s AttentionSpec) Check() error {
	if s.Layers <= 0 || s.Heads <= 0 || s.HeadDim <= 0 || s.MaxSeq <= 0 || s.Batch <= 0 {
		return fmt.Errorf("attention spec: layers %d, heads %d, head dim %d, max seq %d and batch %d must all be positive", s.Layers, s.Heads, s.HeadDim, s.MaxSeq, s.Batch)
	}
	if s.KVHeads <= 0 || s.Heads%s.KVHeads != 0 {
		return fmt.Errorf("attention spec: kv heads %d must divide heads %d", s.KVHeads, s.Heads)
	}
	if len(s.LayerSpecs) != 0 && len(s.LayerSpecs) != s.Layers {
		return fmt.Errorf("attention spec: %d layer specs for %d layers", len(s.LayerSpecs), s.Layers)
	}
	for i, l := range s.LayerSpecs {
		switch {
		case l.Role != RoleSelf && l.Role != RoleCross:
			return fmt.Errorf("attention spec: layer %d has role %q, want %q or %q", i, l.Role, RoleSelf, RoleCross)
		case l.MaxQ <= 0 || l.MaxK <= 0:
			return fmt.Errorf("attention spec: layer %d has max q %d and max k %d, want both positive", i, l.MaxQ, l.MaxK)
		case l.Role == RoleCross && l.Causal:
			return fmt.Errorf("attention spec: layer %d is cross-attention and cannot be causal", i)
		}
	}
	return nil
}

// Optimizer configures the optimiser a component applies to its own
// parameters (the train section of a trial). Biases, norm gains and
// embeddings' positions are conventionally exempt from weight decay.
type Optimizer struct {
	Name        string  // "adamw" or "sgd"
	Beta1       float64 // AdamW
	Beta2       float64 // AdamW
	Eps         float64 // AdamW
	WeightDecay float64 // decoupled (AdamW) or L2 (SGD)
	Momentum    float64 // SGD
}

// DefaultOptimizer is AdamW with PyTorch's defaults and weight decay 0.1.
func DefaultOptimizer() Optimizer {
	return Optimizer{Name: "adamw", Beta1: 0.9, Beta2: 0.999, Eps: 1e-8, WeightDecay: 0.1}
}

// StepArgs drive one optimiser step of a component's own parameters.
type StepArgs struct {
	Step      int     // 0-based optimiser step
	LR        float32 // learning rate for this step (the schedule is the harness's)
	GradScale float32 // multiply gradients by this first (global-norm clipping); 1 = none
}

// Metrics are named scalars reported by an objective for one batch.
type Metrics map[string]float64
