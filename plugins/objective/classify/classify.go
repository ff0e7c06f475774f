package classify

import (
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Token ids of dataset=text: bytes are 0..255, then the specials.
const (
	TextPad   = 256
	TextCLS   = 257
	TextVocab = 258
)

// Dataset names, the choices of the dataset parameter.
const (
	datasetListOps = "listops"
	datasetText    = "text"
)

const name = "classify"

// errorf returns an error prefixed with the objective's name.
func errorf(format string, args ...any) error { return objectives.Errorf(name, format, args...) }

// objective is the classify sdk.Objective.
type objective struct {
	ready   bool
	dataset string
	batch   int  // B: examples per batch
	seqLen  int  // T: tokens per example, [CLS] included
	cls     bool // [CLS] first
	evalN   int  // eval_batches

	vocab, classes int
	pad, clsToken  int32

	listops      listOps // dataset=listops: the generator
	evalFraction float64 // share of sequences held out

	lines  [2][]line // dataset=text: the train and eval lines
	labels []string  // dataset=text: class id -> label

	streams [2]rng.RNG     // per split: the stream split by batch index
	batches [2]*sdk.Batch  // per split: Inputs and KeyMask (B, T), Targets (B), reused
	losses  *tensor.Tensor // (B) per-example losses
	dout    *tensor.Tensor // (B, Classes) gradient returned by Loss
	metrics sdk.Metrics    // returned by Loss, reused
}

// New returns the sequence-classification objective; call Init before
// Batch or Loss.
func New() sdk.Objective { return &objective{} }

// Describe returns the objective's name, version and parameters.
func (o *objective) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindObjective,
		Name:    name,
		Version: "1.0.0",
		Doc:     "sequence classification (cross-entropy, accuracy) on Long Range Arena ListOps or label<TAB>text lines of a file",
		Params: []sdk.Param{
			{Name: "dataset", Type: sdk.String, Default: datasetListOps, Choices: []string{datasetListOps, datasetText},
				Doc: "listops: LRA's nested MIN/MAX/MED/SM expressions, 10 classes; text: bytes of label<TAB>text lines of the file at path"},
			{Name: "path", Type: sdk.String, Default: "",
				Doc: "dataset=text: UTF-8 file with one label<TAB>text example per line; sorted labels are classes 0..N-1"},
			{Name: "seq_len", Type: sdk.Int, Default: int64(512), Min: sdk.Bound(2),
				Doc: "tokens per example, [CLS] included; shorter sequences are padded, longer texts cut"},
			{Name: "cls", Type: sdk.Bool, Default: true,
				Doc: "put a [CLS] token first (for pool: cls); without it, pool the tokens (pool: mean)"},
			{Name: "min_len", Type: sdk.Int, Default: int64(0), Min: sdk.Bound(0),
				Doc: "dataset=listops: shortest tree in tokens; 0: a quarter of max_len (LRA: 500 of 2000)"},
			{Name: "max_len", Type: sdk.Int, Default: int64(0), Min: sdk.Bound(0),
				Doc: "dataset=listops: longest tree in tokens; 0: as long as seq_len allows"},
			{Name: "max_depth", Type: sdk.Int, Default: int64(10), Min: sdk.Bound(1), Max: sdk.Bound(64),
				Doc: "dataset=listops: deepest tree, the root at depth 1 (LRA: 10)"},
			{Name: "max_args", Type: sdk.Int, Default: int64(10), Min: sdk.Bound(2), Max: sdk.Bound(64),
				Doc: "dataset=listops: most arguments of an operator, at least 2 (LRA: 10)"},
			{Name: "eval_fraction", Type: sdk.Float, Default: 0.1, Min: sdk.Bound(0.001), Max: sdk.Bound(0.5),
				Doc: "share of sequences held out for eval, chosen by a hash of the tokens"},
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
	o.cls = cfg.Bool("cls")
	o.evalN = cfg.Int("eval_batches")
	o.evalFraction = cfg.Float("eval_fraction")
	room := o.seqLen // tokens after [CLS]
	if o.cls {
		room--
	}
	switch o.dataset {
	case datasetListOps:
		o.vocab, o.classes, o.pad, o.clsToken = listVocab, 10, listPad, listCLS
		maxLen, minLen := cfg.Int("max_len"), cfg.Int("min_len")
		if maxLen == 0 {
			maxLen = room
		}
		if minLen == 0 {
			minLen = max(1, maxLen/4)
		}
		switch {
		case maxLen > room:
			return sdk.InputSpec{}, errorf("max_len %d does not fit seq_len %d (%d tokens after [CLS] with cls: %v): raise seq_len or lower max_len", maxLen, o.seqLen, room, o.cls)
		case minLen > maxLen:
			return sdk.InputSpec{}, errorf("min_len %d must be at most max_len %d", minLen, maxLen)
		}
		o.listops = newListOps(minLen, maxLen, cfg.Int("max_depth"), cfg.Int("max_args"))
	case datasetText:
		o.vocab, o.pad, o.clsToken = TextVocab, TextPad, TextCLS
		if err := o.initText(cfg.String("path"), room); err != nil {
			return sdk.InputSpec{}, err
		}
		o.classes = len(o.labels)
	}

	B, T, K := batch, o.seqLen, o.classes
	o.streams = objectives.Streams(name, seed)
	for s := range o.batches {
		o.batches[s] = &sdk.Batch{Inputs: sdk.NewIntTensor(B, T), KeyMask: sdk.NewIntTensor(B, T), Targets: sdk.NewIntTensor(B)}
	}
	o.losses = tensor.New(B)
	o.dout = sdk.NewTensor(B, K) // shared memory in a plugin: no copy on return
	o.metrics = sdk.Metrics{"accuracy": 0}
	o.ready = true
	for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
		if _, err := o.Batch(split, 0); err != nil {
			o.ready = false
			return sdk.InputSpec{}, err
		}
	}
	return sdk.InputSpec{Vocab: o.vocab, SeqLen: T, Batch: B, Classes: K, Output: "classes", Task: sdk.TaskClassify}, nil
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
	T := o.seqLen
	br := o.streams[s].Split(uint64(index))
	for e := range o.batch {
		r := br.Split(uint64(e))
		in, km := b.Inputs.Data[e*T:(e+1)*T], b.KeyMask.Data[e*T:(e+1)*T]
		body := in
		if o.cls {
			in[0], body = o.clsToken, in[1:]
		}
		var n, label int
		switch o.dataset {
		case datasetListOps:
			tokens, value, err := o.listops.draw(eval, o.evalFraction, r)
			if err != nil {
				return nil, err
			}
			n, label = copy(body, tokens), value
		case datasetText:
			n, label = o.textExample(body, s, index*o.batch+e, r)
		}
		if o.cls {
			n++
		}
		for t := range T {
			km[t] = 0
			if t < n {
				km[t] = 1
			} else {
				in[t] = o.pad
			}
		}
		b.Targets.Data[e] = int32(label)
	}
	return b, nil
}
