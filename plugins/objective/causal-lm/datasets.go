package causallm

import (
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// The example generators. Each fills one example's inputs and targets,
// in and tg of T = len(in) entries, from the example's own stream r; see
// the package documentation for the layouts. They allocate nothing.

// copyExample writes x Sep x (Pad) with targets only on the copied half.
func (o *objective) copyExample(in, tg []int32, r *rng.RNG) {
	T := len(in)
	L := T / 2
	if o.copyPool != nil {
		for i, x := range sample(o.copyPool, L, r) {
			in[i] = int32(x)
		}
	} else {
		for i := range L {
			in[i] = int32(r.Intn(o.copyVocab))
		}
	}
	in[L] = Sep
	copy(in[L+1:], in[:T-L-1]) // x_0..x_{L-2}, and x_{L-1} when T is odd
	for t := range tg {
		tg[t] = sdk.IgnoreIndex
	}
	for i := range L {
		tg[L+i] = in[i] // position L+i (input Sep or x_{i-1}) predicts x_i
	}
}

// mqarExample writes N key-value pairs followed by as many (key, value)
// queries as fit, with targets only on the values of the queries.
func (o *objective) mqarExample(in, tg []int32, r *rng.RNG) {
	T, N := len(in), o.mqarN
	keys := sample(o.keyPool, N, r)   // N distinct indices into [0, K)
	values := sample(o.valPool, N, r) // N distinct indices into [0, V)
	for i := range N {
		in[2*i] = int32(keys[i])
		in[2*i+1] = int32(o.mqarK + values[i])
	}
	for t := range tg {
		tg[t] = sdk.IgnoreIndex
	}
	// The stream continues with query j at s[2N+2j] (key) and s[2N+2j+1]
	// (value), j < Q = (T+1-2N)/2; s[T] is Pad when T+1-2N is odd. The
	// inputs are s[0:T]; the target at a query key's position is its value.
	Q := (T + 1 - 2*N) / 2
	for j := range Q {
		if j%N == 0 {
			r.Perm(o.perm)
		}
		q := o.perm[j%N]
		t := 2*N + 2*j
		in[t] = in[2*q]
		tg[t] = in[2*q+1]
		if t+1 < T {
			in[t+1] = in[2*q+1]
		}
	}
}

// sample returns the first n entries of pool after a partial Fisher-Yates
// shuffle of the identity: n distinct values of [0, len(pool)) in random
// order. pool is reset first so the result depends only on r.
func sample(pool []int, n int, r *rng.RNG) []int {
	for i := range pool {
		pool[i] = i
	}
	for i := range n {
		j := i + r.Intn(len(pool)-i)
		pool[i], pool[j] = pool[j], pool[i]
	}
	return pool[:n]
}

// textExample writes a window of T+1 consecutive bytes of data, starting
// uniformly at random: inputs its first T bytes, targets its last T.
func textExample(in, tg []int32, data []byte, r *rng.RNG) {
	T := len(in)
	start := r.Intn(len(data) - T) // window [start, start+T] inside data
	w := data[start : start+T+1]
	for t := range T {
		in[t] = int32(w[t])
		tg[t] = int32(w[t+1])
	}
}
