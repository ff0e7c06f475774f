package nn

import (
	"fmt"
	"math"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/kernels/vmath"
)

// CrossEntropyForward is softmax followed by the negative log-likelihood
// of the target class, fused, as PyTorch's F.cross_entropy(logits, targets,
// reduction='mean', ignore_index=ignoreIndex):
//
//	logits   (N.., V)
//	probs    (N.., V)  softmax of every row, cached for the backward
//	losses   (N..) or (N) flattened: -log probs[r, targets[r]], 0 for ignored rows
//	targets  len N, each in [0, V) or equal to ignoreIndex
//
// It returns the mean loss over the count rows whose target is not
// ignoreIndex (0 when count is 0, never NaN). The loss of a row is computed
// from the logits as log(sum exp(logits - m)) + m - logits[target], not from
// the rounded probability, so it stays accurate when that probability is tiny.
// A target outside [0, V) that is not ignoreIndex is an error naming the row
// and the value, and nothing is written. probs may alias logits.
func CrossEntropyForward(losses, probs, logits *tensor.Tensor, targets []int32, ignoreIndex int32) (mean float32, count int, err error) {
	if err := checkCrossEntropy("nn.CrossEntropyForward", losses, probs, "probs", logits, targets, ignoreIndex); err != nil {
		return 0, 0, err
	}
	j := rowJobs.Get()
	*j = rowJob{kind: crossEntropyFwd, c: logits.Cols(), inp: logits.Data, out: probs.Data,
		losses: losses.Data, targets: targets, ignore: ignoreIndex}
	runRows(j, logits.Rows())
	return meanLoss(losses.Data, targets, ignoreIndex)
}

// CrossEntropyBackward accumulates the gradient of the mean loss returned
// by CrossEntropyForward, scaled by dloss (1 for a loss used directly):
//
//	dlogits[r] += dloss/count · (probs[r] - onehot(targets[r]))
//
// for every row whose target is not ignoreIndex; count is recomputed from
// targets. dlogits and probs are (N.., V); dlogits may be nil. Bad targets
// are reported as in the forward.
func CrossEntropyBackward(dlogits, probs *tensor.Tensor, targets []int32, ignoreIndex int32, dloss float32) error {
	chk := tensor.Check("nn.CrossEntropyBackward")
	opt(chk, "dlogits", dlogits)
	chk.Add("probs", probs)
	atLeast1D(chk, "probs", probs)
	same(chk, "dlogits", dlogits, "probs", probs)
	if err := chk.Err(); err != nil {
		return err
	}
	if err := checkTargets("nn.CrossEntropyBackward", "probs", probs, targets, ignoreIndex); err != nil {
		return err
	}
	if dlogits == nil {
		return nil
	}
	count := scored(targets, ignoreIndex)
	if count == 0 {
		return nil
	}
	j := rowJobs.Get()
	*j = rowJob{kind: crossEntropyBwd, c: probs.Cols(), out: probs.Data, dinp: dlogits.Data,
		targets: targets, ignore: ignoreIndex, scale: dloss / float32(count)}
	runRows(j, probs.Rows())
	return nil
}

// CrossEntropyLoss is CrossEntropyForward then CrossEntropyBackward into
// a zeroed dlogits, in one pass over each row and without caching the
// probabilities (an objective's usual pair of calls):
//
//	losses   (N..) or (N) flattened, as CrossEntropyForward's
//	dlogits  (N.., V)  overwritten: dloss/count · (softmax(logits[r]) - onehot(targets[r])),
//	                   zero in rows whose target is ignoreIndex
//
// It returns the mean loss and count as CrossEntropyForward does, with the
// same bits in every output as the two calls (each row's probabilities
// are computed and scaled alike, then scaled by dloss/count where the
// backward would add them to zero). dlogits may alias logits. Bad targets
// are reported as in the forward, before anything is written.
func CrossEntropyLoss(losses, dlogits, logits *tensor.Tensor, targets []int32, ignoreIndex int32, dloss float32) (mean float32, count int, err error) {
	if err := checkCrossEntropy("nn.CrossEntropyLoss", losses, dlogits, "dlogits", logits, targets, ignoreIndex); err != nil {
		return 0, 0, err
	}
	var scale float32
	if n := scored(targets, ignoreIndex); n > 0 {
		scale = dloss / float32(n)
	}
	j := rowJobs.Get()
	*j = rowJob{kind: crossEntropyLoss, c: logits.Cols(), inp: logits.Data, dinp: dlogits.Data,
		losses: losses.Data, targets: targets, ignore: ignoreIndex, scale: scale}
	runRows(j, logits.Rows())
	return meanLoss(losses.Data, targets, ignoreIndex)
}

// scored counts the targets that are not ignoreIndex.
func scored(targets []int32, ignoreIndex int32) int {
	n := 0
	for _, t := range targets {
		if t != ignoreIndex {
			n++
		}
	}
	return n
}

// meanLoss returns the mean of the losses of scored rows, summed in
// float64 serially in row order whatever the split, and their count
// (0 and 0 with none, never NaN).
func meanLoss(losses []float32, targets []int32, ignoreIndex int32) (float32, int, error) {
	var total float64
	count := 0
	for r, t := range targets {
		if t != ignoreIndex {
			total += float64(losses[r])
			count++
		}
	}
	if count == 0 {
		return 0, 0, nil
	}
	return float32(total / float64(count)), count, nil
}

// crossEntropyLoss sets the losses and logit gradients of rows [lo, hi):
// crossEntropyForward's operations with the probabilities written to
// dinp, then crossEntropyBackward's onto zero.
func (j *rowJob) crossEntropyLoss(lo, hi int) {
	v := j.c
	for r := lo; r < hi; r++ {
		x, d := j.inp[r*v:(r+1)*v], j.dinp[r*v:(r+1)*v]
		t := j.targets[r]
		if t == j.ignore {
			j.losses[r] = 0
			clear(d)
			continue
		}
		xt := x[t] // read before d overwrites it when dlogits aliases logits
		m := vmath.Max(x)
		s := vmath.ExpSubSum(d, x, m)
		vmath.Scale(d, 1/s)
		j.losses[r] = float32(math.Log(float64(s))) + (m - xt)
		vmath.Scale(d, j.scale) // 0 + scale·p: the product, rounded once
		d[t] -= j.scale
	}
}

// crossEntropyForward sets the probabilities and losses of rows [lo, hi).
func (j *rowJob) crossEntropyForward(lo, hi int) {
	v := j.c
	for r := lo; r < hi; r++ {
		x, p := j.inp[r*v:(r+1)*v], j.out[r*v:(r+1)*v]
		t := j.targets[r]
		var xt float32
		if t != j.ignore {
			xt = x[t] // read before p overwrites it when probs aliases logits
		}
		m := vmath.Max(x)
		s := vmath.ExpSubSum(p, x, m)
		vmath.Scale(p, 1/s)
		if t == j.ignore {
			j.losses[r] = 0
			continue
		}
		j.losses[r] = float32(math.Log(float64(s))) + (m - xt)
	}
}

// crossEntropyBackward accumulates the logits' gradient of rows [lo, hi).
func (j *rowJob) crossEntropyBackward(lo, hi int) {
	v := j.c
	for r := lo; r < hi; r++ {
		t := j.targets[r]
		if t == j.ignore {
			continue
		}
		dx := j.dinp[r*v : (r+1)*v]
		vmath.Axpy(j.scale, j.out[r*v:(r+1)*v], dx)
		dx[t] -= j.scale
	}
}

// checkCrossEntropy validates a cross-entropy's losses (one per row of
// logits), a tensor of logits' shape named rowsName, the logits and the
// targets.
func checkCrossEntropy(op string, losses, rows *tensor.Tensor, rowsName string, logits *tensor.Tensor, targets []int32, ignoreIndex int32) error {
	chk := tensor.Check(op).Add("losses", losses).Add(rowsName, rows).Add("logits", logits)
	atLeast1D(chk, "logits", logits)
	same(chk, rowsName, rows, "logits", logits)
	rowStats(chk, "losses", losses, "logits", logits)
	if err := chk.Err(); err != nil {
		return err
	}
	return checkTargets(op, "logits", logits, targets, ignoreIndex)
}

// checkTargets requires one target per row of x (N.., V), named name, each
// in [0, V) or equal to ignoreIndex.
func checkTargets(op, name string, x *tensor.Tensor, targets []int32, ignoreIndex int32) error {
	n, v := x.Rows(), x.Cols()
	if len(targets) != n {
		chk := tensor.Check(op).Add(name, x)
		chk.Failf("len(targets) = %d must equal the number of rows %d", len(targets), n)
		return chk.Err()
	}
	for r, t := range targets {
		if t != ignoreIndex && (t < 0 || int(t) >= v) {
			return fmt.Errorf("%s: targets[%d] = %d is outside the classes [0, %d) and is not ignoreIndex %d", op, r, t, v, ignoreIndex)
		}
	}
	return nil
}

// crossEntropyForwardNaive is the reference for CrossEntropyForward: the
// definition -log softmax(x)[t] in float64, with the same ignore rule.
func crossEntropyForwardNaive(losses, probs, logits []float32, targets []int32, ignoreIndex int32, n, v int) (mean float32, count int) {
	softmaxForwardNaive(probs, logits, n, v, false)
	var total float64
	for r, t := range targets[:n] {
		losses[r] = 0
		if t == ignoreIndex {
			continue
		}
		x := logits[r*v : (r+1)*v]
		m := math.Inf(-1)
		for _, xi := range x {
			m = math.Max(m, float64(xi))
		}
		var s float64
		for _, xi := range x {
			s += math.Exp(float64(xi) - m)
		}
		l := -(float64(x[t]) - m - math.Log(s))
		losses[r] = float32(l)
		total += l
		count++
	}
	if count == 0 {
		return 0, 0
	}
	return float32(total / float64(count)), count
}

// crossEntropyBackwardNaive is the reference for CrossEntropyBackward, in
// float64.
func crossEntropyBackwardNaive(dlogits, probs []float32, targets []int32, ignoreIndex int32, dloss float32, n, v int) {
	count := 0
	for _, t := range targets[:n] {
		if t != ignoreIndex {
			count++
		}
	}
	for r, t := range targets[:n] {
		if t == ignoreIndex {
			continue
		}
		for i := range v {
			g := float64(probs[r*v+i])
			if i == int(t) {
				g--
			}
			dlogits[r*v+i] += float32(float64(dloss) / float64(count) * g)
		}
	}
}
