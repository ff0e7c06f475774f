package classify

import (
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
)

// Token ids of dataset=listops.
const (
	listMin   = 10 + iota // [MIN
	listMax               // [MAX
	listMed               // [MED
	listSM                // [SM: sum mod 10
	listEnd               // ]
	listPad               // padding
	listCLS               // [CLS]
	listVocab             // 17
)

// opProb is the probability that a node above the depth limit is an
// operator (LRA's VALUE_P = 0.25: "if r > VALUE_P" the node is a value).
const opProb = 0.25

// listOps draws ListOps trees as LRA's generate_tree does, in its order
// of random draws: the node kind, the argument count, the arguments, then
// the operator.
type listOps struct {
	minLen, maxLen    int // kept trees have a token count in [minLen, maxLen]
	maxDepth, maxArgs int
	tokens            []int32 // the tree being drawn (capacity maxLen)
	values            []int   // the argument values of the open operators, a stack
	over              bool    // the tree outgrew maxLen: the draw was cut short
	drawn, kept       int     // statistics: trees drawn and kept
}

// newListOps returns a generator; the caller checks 1 <= minLen <= maxLen.
func newListOps(minLen, maxLen, maxDepth, maxArgs int) listOps {
	return listOps{minLen: minLen, maxLen: maxLen, maxDepth: maxDepth, maxArgs: maxArgs,
		tokens: make([]int32, 0, maxLen), values: make([]int, 0, maxDepth*maxArgs)}
}

// maxTreeDraws bounds the rejection sampling of draw. Each rejected draw
// stops as soon as the tree outgrows max_len, so it costs at most max_len
// tokens.
const maxTreeDraws = 1000000

// draw returns the tokens and the value of a tree whose token count lies
// in [minLen, maxLen] and whose hash puts it in the eval split if and only
// if eval. The tokens are valid until the next draw.
func (g *listOps) draw(eval bool, fraction float64, r *rng.RNG) ([]int32, int, error) {
	for range maxTreeDraws {
		g.tokens, g.values, g.over = g.tokens[:0], g.values[:0], false
		v := g.node(1, r)
		g.drawn++
		if g.over || len(g.tokens) < g.minLen || objectives.HeldOut(g.tokens, fraction) != eval {
			continue
		}
		g.kept++
		return g.tokens, v, nil
	}
	split := "train"
	if eval {
		split = "eval"
	}
	return nil, 0, errorf("dataset listops: no tree of the %s split with %d to %d tokens in %d draws (max_depth %d, max_args %d): widen the window [min_len, max_len] or change max_depth or max_args",
		split, g.minLen, g.maxLen, maxTreeDraws, g.maxDepth, g.maxArgs)
}

// node appends the subtree of a node at depth (the root is at depth 1)
// and returns its value; once the tree outgrows maxLen it sets g.over and
// returns at once.
func (g *listOps) node(depth int, r *rng.RNG) int {
	if depth < g.maxDepth && r.Float64() <= opProb {
		at := len(g.tokens)
		if !g.push(listMin) { // placeholder: the operator is drawn after its arguments
			return 0
		}
		n := 2 + r.Intn(g.maxArgs-1) // randint(2, max_args), inclusive
		base := len(g.values)
		for range n {
			v := g.node(depth+1, r)
			if g.over {
				return 0
			}
			g.values = append(g.values, v)
		}
		op := r.Intn(4)
		g.tokens[at] = int32(listMin + op)
		v := apply(op, g.values[base:])
		g.values = g.values[:base]
		g.push(listEnd)
		return v
	}
	v := r.Intn(10)
	g.push(int32(v))
	return v
}

// push appends a token unless the tree would outgrow maxLen, in which case
// it sets g.over and reports false.
func (g *listOps) push(tok int32) bool {
	if len(g.tokens) == g.maxLen {
		g.over = true
		return false
	}
	g.tokens = append(g.tokens, tok)
	return true
}

// apply returns operator op (0 MIN, 1 MAX, 2 MED, 3 SM) of the digits
// args: MED is int(np.median(args)), the mean of the two middle values
// rounded down for an even count; SM is the sum mod 10.
func apply(op int, args []int) int {
	var counts [10]int
	sum := 0
	for _, a := range args {
		counts[a]++
		sum += a
	}
	switch op {
	case 0:
		return kth(&counts, 0)
	case 1:
		return kth(&counts, len(args)-1)
	case 2:
		n := len(args)
		if n%2 == 1 {
			return kth(&counts, n/2)
		}
		return (kth(&counts, n/2-1) + kth(&counts, n/2)) / 2
	}
	return sum % 10
}

// kth returns the k-th smallest (0-based) digit of the multiset counts.
func kth(counts *[10]int, k int) int {
	for d, c := range counts {
		if k < c {
			return d
		}
		k -= c
	}
	return 9
}
