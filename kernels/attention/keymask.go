package attention

import (
	"cmp"
	"math"
	"slices"

	"github.com/attnlab/attnlab/kernels/parallel"
)

// keyRuns is a key mask as runs: per batch, the ranges of keys it hides,
// found once per call. Blocks of scores are then hidden with one fill per
// run they meet instead of a test per key and a scalar loop per row: with
// padding masks (byte-level classification at 4096 tokens, a third of the
// keys hidden) those loops took 6-8% of full and flash attention's time.
type keyRuns struct {
	runs  []span // hidden keys [lo, hi), batch after batch, in key order
	first []int  // batch b's runs are runs[first[b]:first[b+1]]
}

var keyRunsPool parallel.FreeList[keyRuns]

// getKeyRuns returns the runs of keyMask (B*Tk flags, true where a key may
// be attended to), or nil for a nil mask. Return it with putKeyRuns.
func getKeyRuns(keyMask []bool, b, tk int) *keyRuns {
	if keyMask == nil {
		return nil
	}
	kr := keyRunsPool.Get()
	kr.runs = kr.runs[:0]
	kr.first = growTo(kr.first, b+1)
	for bb := range b {
		kr.first[bb] = len(kr.runs)
		m := keyMask[bb*tk : (bb+1)*tk]
		for lo := 0; lo < tk; lo++ {
			if m[lo] {
				continue
			}
			hi := lo + 1
			for hi < tk && !m[hi] {
				hi++
			}
			kr.runs = append(kr.runs, span{lo: lo, hi: hi})
			lo = hi
		}
	}
	kr.first[b] = len(kr.runs)
	return kr
}

func putKeyRuns(kr *keyRuns) {
	if kr != nil {
		keyRunsPool.Put(kr)
	}
}

// hide sets to -Inf the rows of s (kb, nr), keys j0..j0+kb-1 of batch b,
// whose keys the mask hides. The first run that reaches the block is
// found by binary search, so a mask of many short runs (a random one)
// costs a block only the runs inside it.
func (kr *keyRuns) hide(s []float32, b, j0, kb, nr int) {
	runs := kr.runs[kr.first[b]:kr.first[b+1]]
	i, _ := slices.BinarySearchFunc(runs, j0, func(r span, j int) int { return cmp.Compare(r.hi, j+1) })
	for _, r := range runs[i:] {
		if r.lo >= j0+kb {
			break
		}
		lo, hi := max(r.lo, j0), min(r.hi, j0+kb)
		fillNegInf(s[(lo-j0)*nr : (hi-j0)*nr])
	}
}

// negInfs is a row of -Inf to copy from.
var negInfs = func() (r [64]float32) {
	for i := range r {
		r[i] = float32(math.Inf(-1))
	}
	return r
}()

// fillNegInf sets every element of s to -Inf with block copies.
func fillNegInf(s []float32) {
	n := copy(s, negInfs[:])
	for n < len(s) {
		n += copy(s[n:], s[:n])
	}
}
