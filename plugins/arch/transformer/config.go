package transformer

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// version 1.3.0: the self-attention's input projection runs head by head
// (qkvheads.go), whose backward sums c_attn's gradients in another order
// (last bits). 1.2.1: the gradient norm sums each parameter's squares in
// eight partial sums (optim.SumSquares), which moves its last bits, and
// with them clipping's.
const (
	name    = "transformer"
	version = "1.3.0"
)

// The model shapes of the "shape" parameter.
const (
	shapeAuto    = "auto"
	shapeDecoder = "decoder"         // causal self-attention (GPT)
	shapeEncoder = "encoder"         // bidirectional self-attention (BERT)
	shapeEncDec  = "encoder-decoder" // encoder, then a causal decoder with cross-attention (Vaswani, T5)
)

// The pooling of the "pool" parameter.
const (
	poolCLS  = "cls"
	poolMean = "mean"
)

// errorf returns an error prefixed with the component's name.
func errorf(format string, args ...any) error {
	return fmt.Errorf("arch %q: "+format, append([]any{name}, args...)...)
}

func (m *model) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindArchitecture,
		Name:    name,
		Version: version,
		Doc:     "pre-LN transformer (GPT-2/nanoGPT blocks) as a causal decoder, a bidirectional encoder (masked LM, pooled classification) or an encoder-decoder with cross-attention (seq2seq)",
		Params: []sdk.Param{
			{Name: "layers", Type: sdk.Int, Default: int64(2), Min: sdk.Bound(1),
				Doc: "number of transformer blocks (of the encoder, in an encoder-decoder)"},
			{Name: "d_model", Type: sdk.Int, Default: int64(128), Min: sdk.Bound(1),
				Doc: "width of the residual stream; must be divisible by heads"},
			{Name: "heads", Type: sdk.Int, Default: int64(4), Min: sdk.Bound(1),
				Doc: "attention heads per block; head_dim = d_model/heads"},
			{Name: "kv_heads", Type: sdk.Int, Default: int64(0), Min: sdk.Bound(0),
				Doc: "key/value heads per block, dividing heads (grouped-query attention; 1 = multi-query); 0 means heads"},
			{Name: "mlp_ratio", Type: sdk.Int, Default: int64(4), Min: sdk.Bound(1),
				Doc: "hidden width of the MLP as a multiple of d_model"},
			{Name: "dropout", Type: sdk.Float, Default: 0.0, Min: sdk.Bound(0), Max: sdk.Bound(1),
				Doc: "dropout probability in [0, 1) after the attention and MLP projections, in training only"},
			{Name: "init_std", Type: sdk.Float, Default: 0.02, Min: sdk.Bound(0),
				Doc: "standard deviation of the normal weight init; residual projections get init_std/sqrt(residual branches of the stack)"},
			{Name: "tie_embeddings", Type: sdk.Bool, Default: true,
				Doc: "share the token embedding with the LM head (GPT-2 weight tying)"},
			{Name: "layernorm_eps", Type: sdk.Float, Default: 1e-5, Min: sdk.Bound(0),
				Doc: "epsilon added to the variance in every layer norm"},
			{Name: "positions", Type: sdk.String, Default: "learned", Choices: []string{"learned", "sinusoidal", "rope"},
				Doc: "positions: a learned table (GPT-2), fixed sinusoids (Vaswani et al. 2017) or rotary q/k (RoFormer)"},
			{Name: "shape", Type: sdk.String, Default: shapeAuto, Choices: []string{shapeAuto, shapeDecoder, shapeEncoder, shapeEncDec},
				Doc: "decoder (causal), encoder (bidirectional) or encoder-decoder; auto: decoder for causal-lm, encoder for masked-lm and classify, encoder-decoder for seq2seq"},
			{Name: "pool", Type: sdk.String, Default: poolCLS, Choices: []string{poolCLS, poolMean},
				Doc: "classification: the first token's final hidden state (cls) or the mean over non-padding tokens (mean)"},
			{Name: "decoder_layers", Type: sdk.Int, Default: int64(0), Min: sdk.Bound(0),
				Doc: "decoder blocks of an encoder-decoder; 0 means as many as layers"},
		},
	}
}

// hparams are the resolved, validated hyper-parameters.
type hparams struct {
	shape     string  // shapeDecoder, shapeEncoder or shapeEncDec (never auto)
	layers    int     // blocks of the only stack, or of the encoder: L
	decLayers int     // decoder blocks of an encoder-decoder, Ld (0 otherwise)
	dModel    int     // residual width, C
	heads     int     // attention heads, H
	kvHeads   int     // key/value heads, KVH: divides H (KVH = H unless grouped-query attention)
	headDim   int     // D = C/H
	hidden    int     // MLP width, mlp_ratio·C
	dropout   float32 // in [0, 1)
	initStd   float32 // weight init standard deviation
	tied      bool    // LM head = token embedding
	sinusoid  bool    // fixed sinusoidal positions instead of a learned table
	rope      bool    // rotary positions on q and k instead of an additive table
	lnEps     float32 // layer norm epsilon
	vocab     int     // V
	seqLen    int     // longest input sequence, S
	targetLen int     // longest decoder sequence of an encoder-decoder, Td (0 otherwise)
	maxBatch  int     // largest batch
	classes   int     // K > 0: a classification head over pooled states
	poolMean  bool    // pool by the mean over real tokens instead of the first token
}

// parse resolves cfg (defaults filled in, so a partial or nil config is
// fine) and validates it with the input spec.
func parse(d sdk.Description, raw sdk.Config, in sdk.InputSpec) (hparams, error) {
	cfg, err := d.Resolve(raw)
	if err != nil {
		return hparams{}, err
	}
	h := hparams{
		layers:   cfg.Int("layers"),
		dModel:   cfg.Int("d_model"),
		heads:    cfg.Int("heads"),
		tied:     cfg.Bool("tie_embeddings"),
		sinusoid: cfg.String("positions") == "sinusoidal",
		rope:     cfg.String("positions") == "rope",
		vocab:    in.Vocab,
		seqLen:   in.SeqLen,
		maxBatch: in.Batch,
		poolMean: cfg.String("pool") == poolMean,
	}
	if h.sinusoid && h.dModel%2 != 0 {
		return h, errorf("positions = sinusoidal needs an even d_model, got %d", h.dModel)
	}
	if h.rope && h.dModel%h.heads == 0 && (h.dModel/h.heads)%2 != 0 {
		return h, errorf("positions = rope needs an even head_dim = d_model/heads, got %d", h.dModel/h.heads)
	}
	if h.dModel%h.heads != 0 {
		return h, errorf("d_model = %d is not divisible by heads = %d: choose heads dividing d_model (head_dim = d_model/heads), e.g. heads = %d", h.dModel, h.heads, largestDivisor(h.dModel, h.heads))
	}
	h.headDim = h.dModel / h.heads
	h.kvHeads = cfg.Int("kv_heads")
	if h.kvHeads == 0 {
		h.kvHeads = h.heads
	}
	if h.heads%h.kvHeads != 0 {
		return h, errorf("kv_heads = %d does not divide heads = %d: each key/value head serves heads/kv_heads query heads; choose a divisor of %d (1 is multi-query attention, %d or 0 is ordinary multi-head attention), e.g. kv_heads = %d", h.kvHeads, h.heads, h.heads, h.heads, largestDivisor(h.heads, h.kvHeads))
	}
	h.hidden = cfg.Int("mlp_ratio") * h.dModel
	p := cfg.Float("dropout")
	if !(p >= 0 && p < 1) {
		return h, errorf("dropout = %v: want a probability in [0, 1)", p)
	}
	h.dropout = float32(p)
	std := cfg.Float("init_std")
	if !(std >= 0 && std <= 1e6) {
		return h, errorf("init_std = %v: want a finite standard deviation >= 0 (GPT-2 uses 0.02)", std)
	}
	h.initStd = float32(std)
	eps := cfg.Float("layernorm_eps")
	if !(eps > 0 && eps < 1) || math.IsInf(eps, 0) {
		return h, errorf("layernorm_eps = %v: want a small positive number (PyTorch's default is 1e-5)", eps)
	}
	h.lnEps = float32(eps)
	if err := h.setShape(cfg, in); err != nil {
		return h, err
	}
	if in.Vocab < 1 || in.Vocab > math.MaxInt32 {
		return h, errorf("the objective's vocabulary size is %d: want 1 to %d (int32 token ids)", in.Vocab, math.MaxInt32)
	}
	if in.SeqLen < 1 {
		return h, errorf("the objective's sequence length is %d: want at least 1", in.SeqLen)
	}
	if in.Batch < 1 {
		return h, errorf("the objective's batch size is %d: want at least 1", in.Batch)
	}
	return h, nil
}

// taskShapes lists, per task, the shapes that serve it; the first is the
// one "auto" picks. A decoder can classify from the mean of its states
// (the first token of a causal decoder sees only itself).
var taskShapes = map[string][]string{
	sdk.TaskCausalLM: {shapeDecoder},
	sdk.TaskMaskedLM: {shapeEncoder},
	sdk.TaskSeq2Seq:  {shapeEncDec},
	sdk.TaskClassify: {shapeEncoder, shapeDecoder},
}

// why says what each task needs of a model, for the mismatch error.
var why = map[string]string{
	sdk.TaskCausalLM: "predicts each next token from the tokens before it only (a causal decoder)",
	sdk.TaskMaskedLM: "predicts masked tokens from both sides (a bidirectional encoder)",
	sdk.TaskSeq2Seq:  "maps an input sequence to a target sequence (an encoder, and a decoder reading it through cross-attention)",
	sdk.TaskClassify: "needs one pooled output per example (an encoder, or a decoder with pool = mean)",
}

// setShape picks the model shape from the "shape" parameter and the
// objective's task, and checks the output the objective asks for.
func (h *hparams) setShape(cfg sdk.Config, in sdk.InputSpec) error {
	task := in.TaskName()
	shapes, ok := taskShapes[task]
	if !ok {
		return errorf("the objective's task %q is not one this architecture serves (%q, %q, %q or %q)", task, sdk.TaskCausalLM, sdk.TaskMaskedLM, sdk.TaskSeq2Seq, sdk.TaskClassify)
	}
	h.shape = cfg.String("shape")
	if h.shape == shapeAuto {
		h.shape = shapes[0]
	} else if !contains(shapes, h.shape) {
		return errorf("shape = %q cannot serve the objective's task %q, which %s: set shape to %s or %q", h.shape, task, why[task], quoteOr(shapes), shapeAuto)
	}
	if task == sdk.TaskClassify {
		if in.Output != "classes" || in.Classes < 1 {
			return errorf("the objective's task is %q but it asks for output %q with %d classes: want output \"classes\" with at least 1 class", task, in.Output, in.Classes)
		}
		if h.shape == shapeDecoder && !h.poolMean {
			return errorf("shape = %q with pool = %q: the first token of a causal decoder sees only itself; use pool = %q (or shape = %q)", shapeDecoder, poolCLS, poolMean, shapeEncoder)
		}
		h.classes = in.Classes
	} else if in.Output != "tokens" {
		return errorf("the objective's task is %q but it asks for output %q: this architecture gives per-token logits (output \"tokens\") for %q, and output \"classes\" for %q", task, in.Output, task, sdk.TaskClassify)
	}
	dl := cfg.Int("decoder_layers")
	switch {
	case h.shape != shapeEncDec && dl != 0:
		return errorf("decoder_layers = %d applies to shape %q only, but the shape is %q: remove it (layers sets the depth)", dl, shapeEncDec, h.shape)
	case h.shape == shapeEncDec && dl == 0:
		h.decLayers = h.layers
	case h.shape == shapeEncDec:
		h.decLayers = dl
	}
	if h.shape == shapeEncDec {
		if in.TargetLen < 1 {
			return errorf("the objective's target length is %d: an encoder-decoder needs TargetLen >= 1 decoder tokens per example", in.TargetLen)
		}
		h.targetLen = in.TargetLen
	}
	return nil
}

func contains(xs []string, s string) bool {
	for _, x := range xs {
		if x == s {
			return true
		}
	}
	return false
}

// quoteOr renders ["a", "b"] as `"a" or "b"`.
func quoteOr(xs []string) string {
	s := ""
	for i, x := range xs {
		if i > 0 {
			s += " or "
		}
		s += fmt.Sprintf("%q", x)
	}
	return s
}

// largestDivisor returns the largest divisor of n that is at most k, as a
// suggestion in the heads error.
func largestDivisor(n, k int) int {
	for h := min(n, k); h > 1; h-- {
		if n%h == 0 {
			return h
		}
	}
	return 1
}
