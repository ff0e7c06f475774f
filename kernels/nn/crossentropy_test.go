package nn

import (
	"math"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/internal/kerneltest"
	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/kernels/tensor"
)

const ignore = -100 // PyTorch's default ignore_index

// ceTargets returns n targets in [0, v), every third one ignoreIndex.
func ceTargets(seed uint64, n, v int, ignoreIndex int32) []int32 {
	r := rng.New(seed)
	targets := make([]int32, n)
	for i := range targets {
		targets[i] = int32(r.Intn(v))
		if i%3 == 2 {
			targets[i] = ignoreIndex
		}
	}
	return targets
}

func TestCrossEntropyForwardMatchesNaive(t *testing.T) {
	for i, shape := range softmaxShapes {
		// ignore_index may also be a real class (a padding token).
		for _, ign := range []int32{ignore, 0} {
			n, v := rowsCols(shape)
			logits := randT(uint64(i), 3, shape...)
			logits.Data[0] += 200 // a confident row: tiny probabilities elsewhere
			targets := ceTargets(uint64(i), n, v, ign)
			losses, probs := filled(9, lead(shape)...), filled(9, shape...)
			mean, count, err := CrossEntropyForward(losses, probs, logits, targets, ign)
			must(t, err)
			wantLosses, wantProbs := make([]float32, n), make([]float32, n*v)
			wantMean, wantCount := crossEntropyForwardNaive(wantLosses, wantProbs, logits.Data, targets, ign, n, v)
			name := shapeName(shape...)
			if count != wantCount {
				t.Errorf("%s: count %d, want %d", name, count, wantCount)
			}
			kerneltest.Close(t, "mean "+name, []float32{mean}, []float32{wantMean}, refTol)
			kerneltest.Close(t, "losses "+name, losses.Data, wantLosses, refTol)
			kerneltest.Close(t, "probs "+name, probs.Data, wantProbs, refTol)

			// probs may alias logits.
			mean2, _, err := CrossEntropyForward(losses, logits, logits, targets, ign)
			must(t, err)
			kerneltest.Identical(t, "mean with probs aliasing logits "+name, []float32{mean2}, []float32{mean})
			kerneltest.Identical(t, "probs aliasing logits "+name, logits.Data, probs.Data)
		}
	}
}

func TestCrossEntropyBackwardMatchesNaive(t *testing.T) {
	for i, shape := range softmaxShapes {
		n, v := rowsCols(shape)
		logits := randT(uint64(i), 2, shape...)
		targets := ceTargets(uint64(i), n, v, ignore)
		losses, probs := tensor.New(n), tensor.New(shape...)
		_, _, err := CrossEntropyForward(losses, probs, logits, targets, ignore)
		must(t, err)
		dlogits := randT(uint64(i+200), 1, shape...) // the backward must add to it
		want := dlogits.Clone()
		must(t, CrossEntropyBackward(dlogits, probs, targets, ignore, 0.7))
		crossEntropyBackwardNaive(want.Data, probs.Data, targets, ignore, 0.7, n, v)
		kerneltest.Close(t, "dlogits "+shapeName(shape...), dlogits.Data, want.Data, refTol)
		must(t, CrossEntropyBackward(nil, probs, targets, ignore, 1))
	}
}

func TestCrossEntropyGradients(t *testing.T) {
	for i, shape := range [][]int{{4, 1}, {5, 7}, {2, 3, 33}} {
		t.Run(shapeName(shape...), func(t *testing.T) {
			n, v := rowsCols(shape)
			logits := randT(uint64(i), 1, shape...)
			targets := ceTargets(uint64(i), n, v, ignore)
			losses, probs, dlogits := tensor.New(n), tensor.New(shape...), tensor.New(shape...)
			meanOut := tensor.New(1) // the scalar loss, as a tensor for checkBackward
			checkBackward(t, uint64(i), meanOut,
				func() {
					mean, _, err := CrossEntropyForward(losses, probs, logits, targets, ignore)
					must(t, err)
					meanOut.Data[0] = mean
				},
				func(dout *tensor.Tensor) {
					must(t, CrossEntropyBackward(dlogits, probs, targets, ignore, dout.Data[0]))
				},
				param{"dlogits", logits, dlogits})
		})
	}
}

func TestCrossEntropyAllIgnored(t *testing.T) {
	logits := randT(1, 1, 3, 5)
	targets := []int32{ignore, ignore, ignore}
	losses, probs := filled(9, 3), tensor.New(3, 5)
	mean, count, err := CrossEntropyForward(losses, probs, logits, targets, ignore)
	must(t, err)
	if mean != 0 || count != 0 || math.IsNaN(float64(mean)) {
		t.Errorf("all targets ignored: mean %v count %d, want 0 and 0", mean, count)
	}
	checkUntouched(t, "losses", losses, 0)
	dlogits := tensor.New(3, 5)
	must(t, CrossEntropyBackward(dlogits, probs, targets, ignore, 1))
	checkUntouched(t, "dlogits", dlogits, 0)
}

func TestCrossEntropyBadTargets(t *testing.T) {
	for _, c := range []struct {
		targets []int32
		want    string
	}{
		{[]int32{0, 5, 1}, "targets[1] = 5"},
		{[]int32{0, 1, -1}, "targets[2] = -1"},
		{[]int32{ignore, 7, 1}, "targets[1] = 7"},
	} {
		logits := randT(1, 1, 3, 5)
		losses, probs, dlogits := filled(9, 3), filled(9, 3, 5), filled(9, 3, 5)
		_, _, err := CrossEntropyForward(losses, probs, logits, c.targets, ignore)
		if err == nil || !containsAll(err.Error(), "nn.CrossEntropyForward", c.want, "[0, 5)") {
			t.Errorf("targets %v: got error %v, want one naming %q", c.targets, err, c.want)
		}
		checkUntouched(t, "losses", losses, 9)
		checkUntouched(t, "probs", probs, 9)
		err = CrossEntropyBackward(dlogits, probs, c.targets, ignore, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("backward, targets %v: got error %v, want one naming %q", c.targets, err, c.want)
		}
		checkUntouched(t, "dlogits", dlogits, 9)
	}
}

// CrossEntropyLoss gives the bits of CrossEntropyForward followed by
// CrossEntropyBackward into a zeroed gradient: losses, mean, count and
// gradient, with ignored rows, a confident row, a scale other than 1, all
// rows ignored, over a dlogits holding garbage, and aliasing the logits.
func TestCrossEntropyLossSameBitsAsTwoCalls(t *testing.T) {
	for i, shape := range softmaxShapes {
		for _, allIgnored := range []bool{false, true} {
			n, v := rowsCols(shape)
			logits := randT(uint64(i), 3, shape...)
			logits.Data[0] += 200
			targets := ceTargets(uint64(i), n, v, ignore)
			if allIgnored {
				for r := range targets {
					targets[r] = ignore
				}
			}
			name := shapeName(shape...)
			wantLosses, probs, wantD := filled(9, lead(shape)...), filled(9, shape...), filled(0, shape...)
			wantMean, wantCount, err := CrossEntropyForward(wantLosses, probs, logits, targets, ignore)
			must(t, err)
			must(t, CrossEntropyBackward(wantD, probs, targets, ignore, 0.7))
			losses, d := filled(9, lead(shape)...), filled(float32(math.NaN()), shape...)
			mean, count, err := CrossEntropyLoss(losses, d, logits, targets, ignore, 0.7)
			must(t, err)
			if count != wantCount {
				t.Errorf("%s: count %d, want %d", name, count, wantCount)
			}
			kerneltest.Identical(t, "mean "+name, []float32{mean}, []float32{wantMean})
			kerneltest.Identical(t, "losses "+name, losses.Data, wantLosses.Data)
			kerneltest.Identical(t, "dlogits "+name, d.Data, wantD.Data)
			in := clone(logits)
			_, _, err = CrossEntropyLoss(losses, in, in, targets, ignore, 0.7)
			must(t, err)
			kerneltest.Identical(t, "dlogits aliasing logits "+name, in.Data, wantD.Data)
		}
	}
	// Bad input writes nothing.
	logits, d := randT(1, 1, 2, 5), filled(3, 2, 5)
	if _, _, err := CrossEntropyLoss(filled(0, 2), d, logits, []int32{1, 7}, ignore, 1); err == nil || !strings.Contains(err.Error(), "targets[1] = 7") {
		t.Errorf("target out of range: got error %v", err)
	}
	checkUntouched(t, "dlogits after a bad target", d, 3)
	if _, _, err := CrossEntropyLoss(filled(0, 2), filled(0, 2, 4), logits, []int32{1, 2}, ignore, 1); err == nil || !strings.Contains(err.Error(), "dlogits") {
		t.Errorf("dlogits of the wrong shape: got error %v", err)
	}
}

func clone(x *tensor.Tensor) *tensor.Tensor {
	return &tensor.Tensor{Shape: append([]int(nil), x.Shape...), Data: append([]float32(nil), x.Data...)}
}
