package seq2seq

import (
	"slices"
	"strconv"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
)

// The synthetic tasks write one example's source into o.src and target
// into o.tgt and return their lengths n and m. They draw until the source
// lies on the split's side of the hash partition, and allocate nothing.

// maxDraws bounds that rejection sampling: an eval draw is accepted with
// probability eval_fraction >= 0.001, so 100000 draws all miss with
// probability below e^-100 unless the task has very few distinct sources.
const maxDraws = 100000

// permuteExample draws x of length uniform in [min_len, seq_len] over
// [0, symbols) and sets y to x reversed (reverse) or sorted (sort).
func (o *objective) permuteExample(eval bool, r *rng.RNG) (n, m int, err error) {
	for range maxDraws {
		n = o.minLen + r.Intn(o.seqLen-o.minLen+1)
		x := o.src[:n]
		for i := range x {
			x[i] = int32(r.Intn(o.symbols))
		}
		if objectives.HeldOut(x, o.evalFraction) != eval {
			continue
		}
		y := o.tgt[:n]
		copy(y, x)
		if o.dataset == datasetSort {
			slices.Sort(y)
		} else {
			slices.Reverse(y)
		}
		return n, n, nil
	}
	return 0, 0, o.tooFew(eval)
}

// addExample draws a and b uniform in [0, 10^digits) and writes the
// source "a+b" and the target a+b in ASCII decimal.
func (o *objective) addExample(eval bool, r *rng.RNG) (n, m int, err error) {
	limit := 1
	for range o.digits {
		limit *= 10
	}
	var buf [64]byte
	for range maxDraws {
		a, b := r.Intn(limit), r.Intn(limit)
		s := strconv.AppendInt(buf[:0], int64(a), 10)
		s = append(s, '+')
		s = strconv.AppendInt(s, int64(b), 10)
		n = copyBytes(o.src, s)
		if objectives.HeldOut(o.src[:n], o.evalFraction) != eval {
			continue
		}
		m = copyBytes(o.tgt, strconv.AppendInt(buf[:0], int64(a+b), 10))
		return n, m, nil
	}
	return 0, 0, o.tooFew(eval)
}

// copyBytes writes the bytes of s as tokens into dst and returns len(s).
func copyBytes(dst []int32, s []byte) int {
	for i, c := range s {
		dst[i] = int32(c)
	}
	return len(s)
}

// tooFew is the error of a task whose sources cannot fill a split.
func (o *objective) tooFew(eval bool) error {
	split := "train"
	if eval {
		split = "eval"
	}
	return errorf("dataset %s: no source of the %s split in %d draws: the task has too few distinct sources "+
		"(seq_len %d, min_len %d, symbols %d, digits %d) to hold out eval_fraction %v of them; make the task larger",
		o.dataset, split, maxDraws, o.seqLen, o.minLen, o.symbols, o.digits, o.evalFraction)
}
