package maskedlm

import (
	"github.com/attnlab/attnlab/kernels/rng"
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
		if heldOut(in[:L], o.evalFraction) != eval {
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

// heldOut reports whether the token string x belongs to the eval split:
// its FNV-1a hash (over the little-endian bytes of each token), finalised
// by SplitMix64's mixer so that every bit depends on every token, lies in
// the lowest fraction of the 64-bit range.
func heldOut(x []int32, fraction float64) bool {
	h := uint64(14695981039346656037)
	for _, v := range x {
		for k := range 4 {
			h ^= uint64(byte(uint32(v) >> (8 * k)))
			h *= 1099511628211
		}
	}
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return float64(h>>11)/(1<<53) < fraction
}
