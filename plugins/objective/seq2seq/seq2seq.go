package seq2seq

import (
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Token ids: bytes (or task symbols) are 0..255, then the specials.
const (
	Pad   = 256 // padding of encoder and decoder inputs
	BOS   = 257 // first decoder input
	EOS   = 258 // last target
	Vocab = 259
)

// Dataset names, the choices of the dataset parameter.
const (
	datasetReverse = "reverse"
	datasetSort    = "sort"
	datasetAdd     = "add"
	datasetText    = "text"
)

const name = "seq2seq"

// errorf returns an error prefixed with the objective's name.
func errorf(format string, args ...any) error { return objectives.Errorf(name, format, args...) }

// objective is the seq2seq sdk.Objective.
type objective struct {
	ready     bool
	dataset   string
	batch     int // B: examples per batch
	seqLen    int // T: encoder tokens per example
	targetLen int // U: decoder tokens per example
	evalN     int // eval_batches

	minLen       int     // reverse, sort: shortest source
	symbols      int     // reverse, sort: tokens in [0, symbols)
	digits       int     // add: digits per operand
	evalFraction float64 // share of sources held out

	pairs [2][]pair // text: the train and eval pairs

	src, tgt []int32 // one example's source (T) and target (U-1), scratch

	streams [2]rng.RNG            // per split: the stream split by batch index
	batches [2]*sdk.Batch         // per split, reused
	loss    *objectives.TokenLoss // decoder logits (B, U, Vocab) against Targets
}

// New returns the sequence-to-sequence objective; call Init before Batch
// or Loss.
func New() sdk.Objective { return &objective{} }

// Describe returns the objective's name, version and parameters.
func (o *objective) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindObjective,
		Name:    name,
		Version: "1.0.0",
		Doc:     "encoder-decoder sequence-to-sequence (teacher forcing; greedy decoding at eval) on reverse, sort, multi-digit add or source<TAB>target text pairs",
		Params: []sdk.Param{
			{Name: "dataset", Type: sdk.String, Default: datasetReverse, Choices: []string{datasetReverse, datasetSort, datasetAdd, datasetText},
				Doc: "reverse or sort a random string, add two decimal numbers, or text pairs from the file at path"},
			{Name: "path", Type: sdk.String, Default: "",
				Doc: "dataset=text: UTF-8 file with one source<TAB>target pair per line"},
			{Name: "seq_len", Type: sdk.Int, Default: int64(16), Min: sdk.Bound(1),
				Doc: "encoder tokens per example: the longest source"},
			{Name: "min_len", Type: sdk.Int, Default: int64(1), Min: sdk.Bound(1),
				Doc: "dataset=reverse/sort: sources have a length uniform in [min_len, seq_len]"},
			{Name: "symbols", Type: sdk.Int, Default: int64(10), Min: sdk.Bound(2), Max: sdk.Bound(256),
				Doc: "dataset=reverse/sort: source tokens are uniform in [0, symbols)"},
			{Name: "digits", Type: sdk.Int, Default: int64(3), Min: sdk.Bound(1), Max: sdk.Bound(18),
				Doc: "dataset=add: operands are uniform in [0, 10^digits); seq_len must be at least 2*digits+1"},
			{Name: "target_len", Type: sdk.Int, Default: int64(64), Min: sdk.Bound(1),
				Doc: "dataset=text: the longest target in bytes (the decoder has target_len+1 positions, for EOS)"},
			{Name: "eval_fraction", Type: sdk.Float, Default: 0.1, Min: sdk.Bound(0.001), Max: sdk.Bound(0.5),
				Doc: "share of sources held out for eval, chosen by a hash of the source"},
			objectives.EvalBatchesParam(),
		},
		Capabilities: []string{"padding_mask"},
	}
}

// Init checks the configuration, reads the pairs file if any, allocates
// every buffer Batch and Loss use, and draws batch 0 of each split once so
// that a dataset that cannot produce examples fails here. cfg may be
// partial: missing parameters take their defaults.
func (o *objective) Init(raw sdk.Config, batch int, seed uint64) (sdk.InputSpec, error) {
	*o = objective{}
	cfg, err := objectives.Resolve(o.Describe(), raw, batch)
	if err != nil {
		return sdk.InputSpec{}, err
	}
	o.dataset = cfg.String("dataset")
	o.batch = batch
	o.seqLen = cfg.Int("seq_len")
	o.evalN = cfg.Int("eval_batches")
	o.minLen = cfg.Int("min_len")
	o.symbols = cfg.Int("symbols")
	o.digits = cfg.Int("digits")
	o.evalFraction = cfg.Float("eval_fraction")
	switch o.dataset {
	case datasetReverse, datasetSort:
		if o.minLen > o.seqLen {
			return sdk.InputSpec{}, errorf("min_len %d must be at most seq_len %d", o.minLen, o.seqLen)
		}
		o.targetLen = o.seqLen + 1
	case datasetAdd:
		if need := 2*o.digits + 1; o.seqLen < need {
			return sdk.InputSpec{}, errorf("dataset add with digits %d needs seq_len at least %d (\"a+b\" with two %d-digit numbers), got %d", o.digits, need, o.digits, o.seqLen)
		}
		o.targetLen = o.digits + 2
	case datasetText:
		o.targetLen = cfg.Int("target_len") + 1
		if err := o.initText(cfg.String("path"), cfg.Int("target_len")); err != nil {
			return sdk.InputSpec{}, err
		}
	}

	B, T, U := batch, o.seqLen, o.targetLen
	o.src, o.tgt = make([]int32, T), make([]int32, U-1)
	o.streams = objectives.Streams(name, seed)
	for s := range o.batches {
		o.batches[s] = &sdk.Batch{
			Inputs: sdk.NewIntTensor(B, T), KeyMask: sdk.NewIntTensor(B, T),
			DecoderInputs: sdk.NewIntTensor(B, U), Targets: sdk.NewIntTensor(B, U),
		}
	}
	o.loss = objectives.NewTokenLoss(name, "decoder logits", "target_len", B, U, Vocab, true)
	o.ready = true
	for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
		if _, err := o.Batch(split, 0); err != nil {
			o.ready = false
			return sdk.InputSpec{}, err
		}
	}
	return sdk.InputSpec{Vocab: Vocab, SeqLen: T, Batch: B, Output: "tokens", Task: sdk.TaskSeq2Seq,
		TargetLen: U, Generate: true, BOS: BOS}, nil
}

// Batch returns batch index of split, regenerated from (seed, split,
// index) alone. The batch is valid until the next Batch call of the split.
func (o *objective) Batch(split sdk.Split, index int) (*sdk.Batch, error) {
	s, index, err := objectives.CheckBatch(name, o.ready, split, index, o.evalN)
	if err != nil {
		return nil, err
	}
	eval := split == sdk.Eval
	b := o.batches[s]
	br := o.streams[s].Split(uint64(index))
	for e := range o.batch {
		r := br.Split(uint64(e))
		var n, m int
		var err error
		switch o.dataset {
		case datasetReverse, datasetSort:
			n, m, err = o.permuteExample(eval, r)
		case datasetAdd:
			n, m, err = o.addExample(eval, r)
		case datasetText:
			n, m = o.textExample(s, index*o.batch+e, r)
		}
		if err != nil {
			return nil, err
		}
		o.write(b, e, o.src[:n], o.tgt[:m])
	}
	return b, nil
}

// write lays out example e of b from its source x and target y (see the
// package documentation).
func (o *objective) write(b *sdk.Batch, e int, x, y []int32) {
	T, U := o.seqLen, o.targetLen
	in, km := b.Inputs.Data[e*T:(e+1)*T], b.KeyMask.Data[e*T:(e+1)*T]
	for t := range T {
		in[t], km[t] = Pad, 0
		if t < len(x) {
			in[t], km[t] = x[t], 1
		}
	}
	dec, tg := b.DecoderInputs.Data[e*U:(e+1)*U], b.Targets.Data[e*U:(e+1)*U]
	m := len(y)
	for t := range U {
		switch {
		case t < m:
			tg[t] = y[t]
		case t == m:
			tg[t] = EOS
		default:
			tg[t] = sdk.IgnoreIndex
		}
		switch {
		case t == 0:
			dec[t] = BOS
		case t <= m:
			dec[t] = y[t-1]
		default:
			dec[t] = Pad
		}
	}
}
