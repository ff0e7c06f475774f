package objectives

import (
	"fmt"

	"github.com/attnlab/attnlab/kernels/nn"
	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// TokenLoss is the mean cross-entropy of token logits (B, T, Vocab)
// against targets (B, T), over the targets that are not sdk.IgnoreIndex,
// with the metrics "accuracy" and "tokens" (and "exact_match" when asked
// for). It owns its softmax cache, gradient and metrics map, allocated
// once by NewTokenLoss; Loss allocates nothing.
type TokenLoss struct {
	name        string // the objective's, prefixed to errors
	logits      string // what out is called in errors: "logits", "decoder logits"
	length      string // the parameter that sets T, named in errors: "seq_len", "target_len"
	exactMatch  bool   // also report "exact_match"
	b, t, vocab int

	losses  *tensor.Tensor // (B*T) per-position losses
	dout    *tensor.Tensor // (B, T, Vocab) gradient returned by Loss
	metrics sdk.Metrics    // returned by Loss, reused
}

// NewTokenLoss returns the loss of objective name for b examples of t
// positions over vocab tokens. logits and length name out and T in error
// messages ("logits" and "seq_len", or "decoder logits" and "target_len");
// exactMatch adds the "exact_match" metric.
func NewTokenLoss(name, logits, length string, b, t, vocab int, exactMatch bool) *TokenLoss {
	l := &TokenLoss{name: name, logits: logits, length: length, exactMatch: exactMatch, b: b, t: t, vocab: vocab,
		losses:  tensor.New(b * t),
		dout:    sdk.NewTensor(b, t, vocab), // shared memory in a plugin: no copy on return
		metrics: sdk.Metrics{"accuracy": 0, "tokens": 0},
	}
	if exactMatch {
		l.metrics["exact_match"] = 0
	}
	return l
}

// Metrics returns the map Loss fills, for an objective to add constant
// metrics of its own once (masked-lm's unigram entropy).
func (l *TokenLoss) Metrics() sdk.Metrics { return l.metrics }

// Loss returns the mean cross-entropy of out (B, T, Vocab) over the
// targets of batch that are not sdk.IgnoreIndex, its gradient with respect
// to out (zero at ignored positions) and the metrics: "accuracy", the
// fraction of scored positions whose largest logit (the first on ties) is
// the target; "tokens", the number of scored positions; and with
// exactMatch "exact_match", the fraction of examples whose scored
// positions are all right (an example with none counts as right). With no
// scored position the loss, gradient and accuracy are 0. Only out and the
// batch's Targets are read. The gradient and the metrics map are valid
// until the next Loss.
func (l *TokenLoss) Loss(out *tensor.Tensor, batch *sdk.Batch) (float32, *tensor.Tensor, sdk.Metrics, error) {
	B, T, V := l.b, l.t, l.vocab
	if out == nil {
		return 0, nil, nil, Errorf(l.name, "Loss: out is nil, want %s (%d, %d, %d)", l.logits, B, T, V)
	}
	if len(out.Shape) != 3 || out.Shape[0] != B || out.Shape[1] != T || out.Shape[2] != V || len(out.Data) != B*T*V {
		return 0, nil, nil, Errorf(l.name, "Loss: out has shape %s and %d elements, want %s (batch %d, %s %d, vocab %d)",
			tensor.FormatShape(out.Shape), len(out.Data), l.logits, B, l.length, T, V)
	}
	if batch == nil || batch.Targets == nil {
		return 0, nil, nil, Errorf(l.name, "Loss: batch has no targets, want targets (%d, %d) as returned by Batch", B, T)
	}
	tg := batch.Targets
	if len(tg.Shape) != 2 || tg.Shape[0] != B || tg.Shape[1] != T || len(tg.Data) != B*T {
		return 0, nil, nil, Errorf(l.name, "Loss: targets have shape %s and %d elements, want (batch %d, %s %d)",
			tensor.FormatShape(tg.Shape), len(tg.Data), B, l.length, T)
	}

	mean, count, err := nn.CrossEntropyLoss(l.losses, l.dout, out, tg.Data, sdk.IgnoreIndex, 1)
	if err != nil {
		return 0, nil, nil, Errorf(l.name, "Loss: %w", err)
	}
	correct, exact := 0, 0
	for e := range B {
		all := true
		for r := e * T; r < (e+1)*T; r++ {
			t := tg.Data[r]
			if t == sdk.IgnoreIndex {
				continue
			}
			if Argmax(out.Data[r*V:(r+1)*V]) == int(t) {
				correct++
			} else {
				all = false
			}
		}
		if all {
			exact++
		}
	}
	acc := 0.0
	if count > 0 {
		acc = float64(correct) / float64(count)
	}
	l.metrics["accuracy"] = acc
	l.metrics["tokens"] = float64(count)
	if l.exactMatch {
		l.metrics["exact_match"] = float64(exact) / float64(B)
	}
	return mean, l.dout, l.metrics, nil
}

// Argmax returns the index of the first largest entry of x (NaNs are never
// the largest; an all-NaN row gives 0). The maximum comes from vmath.Max's
// vector loop and then its first position; a row with a NaN takes the
// scalar loop (argmaxScalar).
func Argmax(x []float32) int {
	if len(x) == 0 {
		return 0
	}
	m := vmath.Max(x)
	if m == m {
		for i, v := range x {
			if v == m {
				return i
			}
		}
	}
	return argmaxScalar(x)
}

// argmaxScalar is Argmax in one scalar pass, NaNs included.
func argmaxScalar(x []float32) int {
	best := 0
	for i, v := range x {
		if v > x[best] || x[best] != x[best] && v == v {
			best = i
		}
	}
	return best
}

// Errorf returns an error prefixed with the objective's name, as
// `objective "seq2seq": ...`.
func Errorf(name, format string, args ...any) error {
	return fmt.Errorf("objective %q: "+format, append([]any{name}, args...)...)
}
