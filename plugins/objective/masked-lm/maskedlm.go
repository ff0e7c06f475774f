package maskedlm

import (
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Token ids: bytes are 0..255, then the specials.
const (
	Pad   = 256 // padding after a short example (KeyMask 0)
	Mask  = 257 // [MASK]
	Vocab = 258
)

// Dataset names, the choices of the dataset parameter.
const (
	datasetText   = "text"
	datasetRepeat = "repeat"
)

const name = "masked-lm"

// errorf returns an error prefixed with the objective's name.
func errorf(format string, args ...any) error { return objectives.Errorf(name, format, args...) }

// objective is the masked-lm sdk.Objective.
type objective struct {
	ready   bool
	dataset string
	batch   int // B: examples per batch
	seqLen  int // T: tokens per example
	evalN   int // eval_batches
	mask    masking

	repeatVocab  int     // dataset=repeat: data tokens in [0, repeatVocab)
	evalFraction float64 // held-out share (bytes of the file, or hash range)

	text    [2][]byte // dataset=text: the train and eval bytes of the file
	entropy float64   // dataset=text: unigram entropy of the file, nats/byte

	streams [2]rng.RNG            // per split: the stream split by batch index
	batches [2]*sdk.Batch         // per split: Inputs, Targets and KeyMask (B, T), reused
	loss    *objectives.TokenLoss // logits (B, T, Vocab) against Targets
}

// New returns the masked language-modelling objective; call Init before
// Batch or Loss.
func New() sdk.Objective { return &objective{} }

// Describe returns the objective's name, version and parameters.
func (o *objective) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindObjective,
		Name:    name,
		Version: "1.0.0",
		Doc:     "BERT masked language modelling (15% of tokens; 80% [MASK], 10% random, 10% kept) on byte-level text or a synthetic repeat task",
		Params: []sdk.Param{
			{Name: "dataset", Type: sdk.String, Default: datasetRepeat, Choices: []string{datasetText, datasetRepeat},
				Doc: "text: windows of the UTF-8 file at path; repeat: a random string written twice, padded"},
			{Name: "path", Type: sdk.String, Default: "",
				Doc: "dataset=text: the text file (its last eval_fraction of bytes is the eval split)"},
			{Name: "seq_len", Type: sdk.Int, Default: int64(128), Min: sdk.Bound(2),
				Doc: "tokens per example"},
			{Name: "mask_prob", Type: sdk.Float, Default: 0.15, Min: sdk.Bound(0), Max: sdk.Bound(1),
				Doc: "probability that a real position is selected for prediction (BERT: 0.15)"},
			{Name: "replace_mask", Type: sdk.Float, Default: 0.8, Min: sdk.Bound(0), Max: sdk.Bound(1),
				Doc: "probability that a selected input becomes [MASK] (BERT: 0.8)"},
			{Name: "replace_random", Type: sdk.Float, Default: 0.1, Min: sdk.Bound(0), Max: sdk.Bound(1),
				Doc: "probability that a selected input becomes a random data token (BERT: 0.1); the rest stay unchanged"},
			{Name: "repeat_vocab", Type: sdk.Int, Default: int64(16), Min: sdk.Bound(2), Max: sdk.Bound(256),
				Doc: "dataset=repeat: data tokens are uniform in [0, repeat_vocab)"},
			{Name: "eval_fraction", Type: sdk.Float, Default: 0.1, Min: sdk.Bound(0.001), Max: sdk.Bound(0.5),
				Doc: "share held out for eval: the file's last bytes (text) or a hash range of strings (repeat)"},
			objectives.EvalBatchesParam(),
		},
		Capabilities: []string{"padding_mask"},
	}
}

// Init checks the configuration, reads the text file if any, allocates
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
	o.repeatVocab = cfg.Int("repeat_vocab")
	o.evalFraction = cfg.Float("eval_fraction")
	o.mask = masking{prob: cfg.Float("mask_prob"), toMask: cfg.Float("replace_mask"), toRandom: cfg.Float("replace_random"), vocab: 256}
	if o.mask.toMask+o.mask.toRandom > 1 {
		return sdk.InputSpec{}, errorf("replace_mask %v + replace_random %v = %v must be at most 1 (the rest of the selected tokens stay unchanged)",
			o.mask.toMask, o.mask.toRandom, o.mask.toMask+o.mask.toRandom)
	}
	switch o.dataset {
	case datasetText:
		if err := o.initText(cfg.String("path")); err != nil {
			return sdk.InputSpec{}, err
		}
	case datasetRepeat:
		o.mask.vocab = o.repeatVocab
	}

	o.streams = objectives.Streams(name, seed)
	for s := range o.batches {
		o.batches[s] = &sdk.Batch{Inputs: sdk.NewIntTensor(batch, o.seqLen), Targets: sdk.NewIntTensor(batch, o.seqLen)}
		if o.dataset == datasetRepeat {
			o.batches[s].KeyMask = sdk.NewIntTensor(batch, o.seqLen)
		}
	}
	o.loss = objectives.NewTokenLoss(name, "logits", "seq_len", batch, o.seqLen, Vocab, false)
	if o.dataset == datasetText {
		o.loss.Metrics()["unigram_entropy"] = o.entropy
	}
	o.ready = true
	for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
		if _, err := o.Batch(split, 0); err != nil {
			o.ready = false
			return sdk.InputSpec{}, err
		}
	}
	return sdk.InputSpec{Vocab: Vocab, SeqLen: o.seqLen, Batch: batch, Output: "tokens", Task: sdk.TaskMaskedLM}, nil
}

// initText reads the file, checks it, splits it into train and eval bytes
// and measures its unigram entropy.
func (o *objective) initText(path string) error {
	if path == "" {
		return errorf("dataset text needs parameter \"path\", the UTF-8 text file to model")
	}
	data, err := readText(path)
	if err != nil {
		return errorf("dataset text: %v", err)
	}
	cut := len(data) - int(float64(len(data))*o.evalFraction)
	o.text = [2][]byte{data[:cut], data[cut:]}
	if len(o.text[0]) < o.seqLen || len(o.text[1]) < o.seqLen {
		return errorf("dataset text: %s has %d bytes, split into %d train and %d eval bytes (eval_fraction %v), "+
			"but each split needs at least seq_len = %d bytes for one example: use a longer file, a shorter seq_len or a larger eval_fraction",
			path, len(data), len(o.text[0]), len(o.text[1]), o.evalFraction, o.seqLen)
	}
	o.entropy = UnigramEntropy(data)
	sdk.Logger().Info("masked-lm text", "path", path, "bytes", len(data), "train_bytes", len(o.text[0]), "eval_bytes", len(o.text[1]),
		"unigram_entropy_nats", o.entropy, "unigram_entropy_bits", o.entropy/ln2)
	return nil
}

// Batch returns batch index of split, regenerated from (seed, split,
// index) alone. The batch is valid until the next Batch call of the split.
func (o *objective) Batch(split sdk.Split, index int) (*sdk.Batch, error) {
	s, index, err := objectives.CheckBatch(name, o.ready, split, index, o.evalN)
	if err != nil {
		return nil, err
	}
	b := o.batches[s]
	T := o.seqLen
	br := o.streams[s].Split(uint64(index))
	for e := range o.batch {
		r := br.Split(uint64(e))
		in, tg := b.Inputs.Data[e*T:(e+1)*T], b.Targets.Data[e*T:(e+1)*T]
		n := T
		switch o.dataset {
		case datasetText:
			textWindow(in, o.text[s], r.Split(0))
		case datasetRepeat:
			var err error
			if n, err = o.repeatExample(in, split == sdk.Eval, r.Split(0)); err != nil {
				return nil, err
			}
			km := b.KeyMask.Data[e*T : (e+1)*T]
			for t := range km {
				km[t] = 0
				if t < n {
					km[t] = 1
				}
			}
		}
		o.mask.apply(in, tg, n, r.Split(1))
	}
	return b, nil
}
