package causallm

import (
	"fmt"
	"os"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Token ids shared by every dataset.
const (
	Vocab = 256 // byte-level vocabulary
	Sep   = 254 // separator between the two halves of a copy example
	Pad   = 255 // padding, only ever the last (ignored) target
)

// maxData is the number of ids below the specials, available to data tokens.
const maxData = Sep

// Dataset names, the choices of the dataset parameter.
const (
	datasetText = "text"
	datasetCopy = "copy"
	datasetMQAR = "mqar"
)

// objective is the causal-lm sdk.Objective.
type objective struct {
	ready   bool
	dataset string
	batch   int // B: examples per batch
	seqLen  int // T: tokens per example
	evalN   int // eval_batches

	copyVocab              int
	mqarN, mqarK, mqarV    int
	keyPool, valPool, perm []int // mqar scratch: (K), (V), (N)
	copyPool               []int // copy_distinct scratch: (copy_vocab); nil: tokens may repeat

	text [2][]byte // text: the train and eval byte ranges of the file

	streams [2]rng.RNG            // per split: the stream split by batch index
	batches [2]*sdk.Batch         // per split: Inputs and Targets (B, T), reused
	loss    *objectives.TokenLoss // logits (B, T, Vocab) against Targets
}

// New returns the causal language-modelling objective; call Init before
// Batch or Loss.
func New() sdk.Objective { return &objective{} }

// Describe returns the objective's name, version and parameters.
func (o *objective) Describe() sdk.Description {
	return sdk.Description{
		Kind:    sdk.KindObjective,
		Name:    "causal-lm",
		Version: "1.0.0",
		Doc:     "next-token prediction (cross-entropy) on byte-level text or the copy and MQAR recall tasks",
		Params: []sdk.Param{
			{Name: "dataset", Type: sdk.String, Default: datasetCopy, Choices: []string{datasetText, datasetCopy, datasetMQAR},
				Doc: "text: bytes of the file at path; copy: repeat the first half; mqar: multi-query associative recall (Zoology)"},
			{Name: "path", Type: sdk.String, Default: "",
				Doc: "dataset=text: the text file (first 90% of its bytes train, last 10% eval)"},
			{Name: "seq_len", Type: sdk.Int, Default: int64(256), Min: sdk.Bound(2),
				Doc: "tokens per example"},
			objectives.EvalBatchesParam(),
			{Name: "copy_vocab", Type: sdk.Int, Default: int64(64), Min: sdk.Bound(2), Max: sdk.Bound(maxData),
				Doc: "dataset=copy: data tokens are uniform in [0, copy_vocab)"},
			{Name: "copy_distinct", Type: sdk.Bool, Default: false,
				Doc: "dataset=copy: the string to copy has no repeated token (needs copy_vocab >= seq_len/2)"},
			{Name: "mqar_pairs", Type: sdk.Int, Default: int64(16), Min: sdk.Bound(1), Max: sdk.Bound(maxData / 2),
				Doc: "dataset=mqar: key-value pairs per example (seq_len must be at least 2*mqar_pairs+1)"},
			{Name: "mqar_keys", Type: sdk.Int, Default: int64(64), Min: sdk.Bound(1), Max: sdk.Bound(maxData - 1),
				Doc: "dataset=mqar: keys are drawn from [0, mqar_keys), at least mqar_pairs"},
			{Name: "mqar_values", Type: sdk.Int, Default: int64(64), Min: sdk.Bound(1), Max: sdk.Bound(maxData - 1),
				Doc: "dataset=mqar: values are drawn from [mqar_keys, mqar_keys+mqar_values); keys+values at most 254"},
		},
		Capabilities: []string{"causal"},
	}
}

// Init checks the configuration, reads the text file if any, and allocates
// every buffer Batch and Loss use. cfg may be partial: missing parameters
// take their defaults.
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
	switch o.dataset {
	case datasetText:
		err = o.initText(cfg.String("path"))
	case datasetCopy:
		o.copyVocab = cfg.Int("copy_vocab")
		if cfg.Bool("copy_distinct") {
			if o.copyVocab < o.seqLen/2 {
				err = fmt.Errorf("objective \"causal-lm\": copy_distinct needs copy_vocab >= seq_len/2 = %d distinct tokens, got copy_vocab = %d", o.seqLen/2, o.copyVocab)
			}
			o.copyPool = make([]int, o.copyVocab)
		}
	case datasetMQAR:
		err = o.initMQAR(cfg.Int("mqar_pairs"), cfg.Int("mqar_keys"), cfg.Int("mqar_values"))
	}
	if err != nil {
		return sdk.InputSpec{}, err
	}

	o.streams = objectives.Streams("causal-lm", seed)
	for s := range o.batches {
		o.batches[s] = &sdk.Batch{Inputs: sdk.NewIntTensor(batch, o.seqLen), Targets: sdk.NewIntTensor(batch, o.seqLen)}
	}
	o.loss = objectives.NewTokenLoss("causal-lm", "logits", "seq_len", batch, o.seqLen, Vocab, false)
	o.ready = true
	return sdk.InputSpec{Vocab: Vocab, SeqLen: o.seqLen, Batch: batch, Output: "tokens", Task: sdk.TaskCausalLM}, nil
}

// initText reads the file and splits it 90/10 into train and eval bytes.
func (o *objective) initText(path string) error {
	if path == "" {
		return fmt.Errorf("objective \"causal-lm\": dataset text needs parameter \"path\", the text file to model")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return fmt.Errorf("objective \"causal-lm\": dataset text: cannot read path %q: %v", path, err)
	}
	cut := trainBytes(len(data))
	o.text = [2][]byte{data[:cut], data[cut:]}
	need := o.seqLen + 1
	if len(o.text[0]) < need || len(o.text[1]) < need {
		return fmt.Errorf("objective \"causal-lm\": dataset text: %q has %d bytes, split into %d train and %d eval bytes, "+
			"but each split needs at least seq_len+1 = %d bytes for one example (use a file of at least %d bytes or a shorter seq_len)",
			path, len(data), len(o.text[0]), len(o.text[1]), need, minTextBytes(need))
	}
	return nil
}

// trainBytes returns the size of the train split of an n-byte file,
// floor(0.9·n); the eval split is the remaining n - trainBytes(n) bytes.
func trainBytes(n int) int { return n * 9 / 10 }

// minTextBytes returns the smallest file size whose eval split holds need
// bytes; its train split, about nine times larger, then does too.
func minTextBytes(need int) int {
	n := 10 * (need - 1)
	for n-trainBytes(n) < need {
		n++
	}
	return n
}

// initMQAR checks the MQAR parameters against each other and seq_len, and
// allocates the sampling scratch.
func (o *objective) initMQAR(n, k, v int) error {
	switch {
	case k+v > maxData:
		return fmt.Errorf("objective \"causal-lm\": mqar_keys %d + mqar_values %d = %d must be at most %d (ids %d and %d are the separator and pad)", k, v, k+v, maxData, Sep, Pad)
	case n > k:
		return fmt.Errorf("objective \"causal-lm\": mqar_pairs %d needs at least as many keys, but mqar_keys is %d (keys within an example are distinct)", n, k)
	case n > v:
		return fmt.Errorf("objective \"causal-lm\": mqar_pairs %d needs at least as many values, but mqar_values is %d (values within an example are distinct)", n, v)
	case o.seqLen < 2*n+1:
		return fmt.Errorf("objective \"causal-lm\": seq_len %d is too short for mqar_pairs %d: the pairs take %d tokens and one query needs 2 more (seq_len at least %d)", o.seqLen, n, 2*n, 2*n+1)
	}
	o.mqarN, o.mqarK, o.mqarV = n, k, v
	o.keyPool, o.valPool, o.perm = make([]int, k), make([]int, v), make([]int, n)
	return nil
}

// Batch returns batch index of split, regenerated from (seed, split,
// index) alone. The batch is valid until the next Batch call of the split.
func (o *objective) Batch(split sdk.Split, index int) (*sdk.Batch, error) {
	s, index, err := objectives.CheckBatch("causal-lm", o.ready, split, index, o.evalN)
	if err != nil {
		return nil, err
	}
	b := o.batches[s]
	T := o.seqLen
	br := o.streams[s].Split(uint64(index))
	for e := range o.batch {
		r := br.Split(uint64(e))
		in, tg := b.Inputs.Data[e*T:(e+1)*T], b.Targets.Data[e*T:(e+1)*T]
		switch o.dataset {
		case datasetCopy:
			o.copyExample(in, tg, r)
		case datasetMQAR:
			o.mqarExample(in, tg, r)
		case datasetText:
			textExample(in, tg, o.text[s], r)
		}
	}
	return b, nil
}
