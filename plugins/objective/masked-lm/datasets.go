package maskedlm

import (
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
)

// The example generators fill one example's clean inputs from its data
// stream r; masking comes after. They allocate nothing.

// textWindow writes T = len(in) consecutive bytes of data, the start
// uniform over the len(data)-T+1 windows.
func textWindow(in []int32, data []byte, r *rng.RNG) {
	start := r.Intn(len(data) - len(in) + 1)
	for t := range in {
		in[t] = int32(data[start+t])
	}
}

// maxDraws bounds the rejection sampling of the repeat task's hash
// partition: the eval split takes a string with probability
// eval_fraction >= 0.001, so 100000 draws all miss with probability below
// e^-100 unless the string space itself is tiny.
const maxDraws = 100000

// repeatExample writes x x Pad.. with x of L tokens, L uniform in
// [max(1, T/4), T/2], and returns 2L, the number of real positions. It
// draws strings until one lies in the split's part of the hash partition
// (eval: heldOut; train: not).
func (o *objective) repeatExample(in []int32, eval bool, r *rng.RNG) (int, error) {
	T := len(in)
	lo, hi := max(1, T/4), T/2
	for range maxDraws {
		L := lo + r.Intn(hi-lo+1)
		for i := range L {
			in[i] = int32(r.Intn(o.repeatVocab))
		}
		if objectives.HeldOut(in[:L], o.evalFraction) != eval {
			continue
		}
		copy(in[L:2*L], in[:L])
		for t := 2 * L; t < T; t++ {
			in[t] = Pad
		}
		return 2 * L, nil
	}
	split := "train"
	if eval {
		split = "eval"
	}
	return 0, errorf("dataset repeat: no string of the %s split in %d draws: seq_len %d and repeat_vocab %d allow too few distinct strings to hold out eval_fraction %v of them",
		split, maxDraws, T, o.repeatVocab, o.evalFraction)
}
