package transformer

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/plugins/sdk"
)

const (
	name    = "transformer"
	version = "1.0.0"
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
		Doc:     "decoder-only GPT (GPT-2/nanoGPT): learned or sinusoidal positions, pre-LN blocks, GELU MLP, optionally tied LM head",
		Params: []sdk.Param{
			{Name: "layers", Type: sdk.Int, Default: int64(2), Min: sdk.Bound(1),
				Doc: "number of transformer blocks"},
			{Name: "d_model", Type: sdk.Int, Default: int64(128), Min: sdk.Bound(1),
				Doc: "width of the residual stream; must be divisible by heads"},
			{Name: "heads", Type: sdk.Int, Default: int64(4), Min: sdk.Bound(1),
				Doc: "attention heads per block; head_dim = d_model/heads"},
			{Name: "mlp_ratio", Type: sdk.Int, Default: int64(4), Min: sdk.Bound(1),
				Doc: "hidden width of the MLP as a multiple of d_model"},
			{Name: "dropout", Type: sdk.Float, Default: 0.0, Min: sdk.Bound(0), Max: sdk.Bound(1),
				Doc: "dropout probability in [0, 1) after the attention and MLP projections, in training only"},
			{Name: "init_std", Type: sdk.Float, Default: 0.02, Min: sdk.Bound(0),
				Doc: "standard deviation of the normal weight init; residual projections get init_std/sqrt(2*layers)"},
			{Name: "tie_embeddings", Type: sdk.Bool, Default: true,
				Doc: "share the token embedding with the LM head (GPT-2 weight tying)"},
			{Name: "layernorm_eps", Type: sdk.Float, Default: 1e-5, Min: sdk.Bound(0),
				Doc: "epsilon added to the variance in every layer norm"},
			{Name: "positions", Type: sdk.String, Default: "learned", Choices: []string{"learned", "sinusoidal", "rope"},
				Doc: "positions: a learned table (GPT-2), fixed sinusoids (Vaswani et al. 2017) or rotary q/k (RoFormer)"},
		},
	}
}

// hparams are the resolved, validated hyper-parameters.
type hparams struct {
	layers   int     // transformer blocks, L
	dModel   int     // residual width, C
	heads    int     // attention heads, H
	headDim  int     // D = C/H
	hidden   int     // MLP width, mlp_ratio·C
	dropout  float32 // in [0, 1)
	initStd  float32 // weight init standard deviation
	tied     bool    // LM head = token embedding
	sinusoid bool    // fixed sinusoidal positions instead of a learned table
	rope     bool    // rotary positions on q and k instead of an additive table
	lnEps    float32 // layer norm epsilon
	vocab    int     // V
	seqLen   int     // longest sequence, S
	maxBatch int     // largest batch
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

	if task := in.TaskName(); task != sdk.TaskCausalLM {
		return h, errorf("the objective's task is %q, but this architecture is a decoder-only (causal) transformer, which serves %q only", task, sdk.TaskCausalLM)
	}
	if in.Output != "tokens" {
		return h, errorf("the objective asks for output %q, but this architecture only produces per-token logits (Output \"tokens\", (B, T, Vocab)); classification heads are not supported yet", in.Output)
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
