package objectives

import (
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Resolve is the start of every objective's Init: it resolves raw against
// the description d (missing parameters take their defaults) and checks
// the batch size.
func Resolve(d sdk.Description, raw sdk.Config, batch int) (sdk.Config, error) {
	cfg, err := d.Resolve(raw)
	if err != nil {
		return nil, err
	}
	if batch < 1 {
		return nil, Errorf(d.Name, "batch size %d must be at least 1", batch)
	}
	return cfg, nil
}

// Streams returns the train and eval data streams of objective name:
// rng.New(seed).SplitName(name) split by the names "train" and "eval".
// Batch splits them by batch index, and that by example index.
func Streams(name string, seed uint64) [2]rng.RNG {
	root := rng.New(seed).SplitName(name)
	return [2]rng.RNG{*root.SplitName(string(sdk.Train)), *root.SplitName(string(sdk.Eval))}
}

// EvalBatchesParam is the eval_batches parameter of every objective, which
// CheckBatch implements.
func EvalBatchesParam() sdk.Param {
	return sdk.Param{Name: "eval_batches", Type: sdk.Int, Default: int64(4), Min: sdk.Bound(1),
		Doc: "distinct eval batches; Batch(eval, i) returns batch i mod eval_batches"}
}

// CheckBatch checks the arguments of objective name's Batch call and
// returns the split's stream and buffer index s (0 train, 1 eval) and the
// batch index to generate: index, or for eval index mod evalBatches, so
// that an evaluation always sees the same evalBatches batches.
func CheckBatch(name string, ready bool, split sdk.Split, index, evalBatches int) (s, i int, err error) {
	if !ready {
		return 0, 0, Errorf(name, "Batch called before a successful Init")
	}
	switch split {
	case sdk.Train:
		s = 0
	case sdk.Eval:
		s = 1
	default:
		return 0, 0, Errorf(name, "unknown split %q (want %q or %q)", split, sdk.Train, sdk.Eval)
	}
	if index < 0 {
		return 0, 0, Errorf(name, "batch index %d must not be negative", index)
	}
	if split == sdk.Eval {
		index %= evalBatches
	}
	return s, index, nil
}

// HeldOut reports whether the token sequence x belongs to the eval split:
// its FNV-1a hash (over the little-endian bytes of each token), finalised
// by SplitMix64's mixer so that every bit depends on every token, lies in
// the lowest fraction of the 64-bit range.
func HeldOut(x []int32, fraction float64) bool {
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
