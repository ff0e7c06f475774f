package maskedlm

import (
	"fmt"
	"math"
	"testing"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// binomialOK reports whether k successes in n trials are within z standard
// errors of rate p, and describes the comparison.
func binomialOK(k, n int, p, z float64) (bool, string) {
	got := float64(k) / float64(n)
	se := math.Sqrt(p * (1 - p) / float64(n))
	return math.Abs(got-p) <= z*se, fmt.Sprintf("%d/%d = %.4f, want %.4f ± %.4f (%g standard errors)", k, n, got, p, z*se, z)
}

// Masking statistics over many draws, through Batch: a second objective
// with mask_prob 0 and the same seed yields the clean inputs (data and
// masking use separate streams), so every position's original token is
// known. Selection is 15% of the real positions and never padding; of the
// selected, 80% become Mask, 10% a random data token and 10% stay (a random
// token equals the original with probability 1/V, which moves 0.1/V from
// "random" to "kept"); unselected positions are never changed.
func TestMaskingStatistics(t *testing.T) {
	cases := []struct {
		name                    string
		cfg                     sdk.Config
		prob, toMask, toRandom  float64
		dataVocab, batches, bsz int
	}{
		{"text/bert", configs(t)["text"], 0.15, 0.8, 0.1, 256, 1000, 8},
		{"repeat/bert", configs(t)["repeat"], 0.15, 0.8, 0.1, 8, 1000, 8},
		{"repeat/other", sdk.Config{"dataset": "repeat", "seq_len": 20, "repeat_vocab": 5,
			"mask_prob": 0.3, "replace_mask": 0.5, "replace_random": 0.25}, 0.3, 0.5, 0.25, 5, 200, 8},
	}
	const z = 4.5 // a false alarm about once in 150000 checks
	for _, c := range cases {
		clean := sdk.Config{"mask_prob": 0.0}
		for k, v := range c.cfg {
			if k != "mask_prob" {
				clean[k] = v
			}
		}
		o, ref := mustInit(t, c.cfg, c.bsz, 9), mustInit(t, clean, c.bsz, 9)
		var real, selected, masked, kept, random, pads int
		for i := range c.batches {
			ex, orig := mustBatch(t, o, sdk.Train, i), mustBatch(t, ref, sdk.Train, i)
			for p, in := range ex.in {
				if ex.km != nil && ex.km[p] == 0 {
					pads++
					if in != Pad || ex.tg[p] != ign {
						t.Fatalf("%s: padding position %d has input %d and target %d", c.name, p, in, ex.tg[p])
					}
					continue
				}
				real++
				if ex.tg[p] == ign {
					if in != orig.in[p] {
						t.Fatalf("%s: unselected position %d changed from %d to %d", c.name, p, orig.in[p], in)
					}
					continue
				}
				selected++
				if ex.tg[p] != orig.in[p] {
					t.Fatalf("%s: target %d at position %d is not the original token %d", c.name, ex.tg[p], p, orig.in[p])
				}
				switch {
				case in == Mask:
					masked++
				case in == orig.in[p]:
					kept++
				case in >= 0 && int(in) < c.dataVocab:
					random++
				default:
					t.Fatalf("%s: selected position %d has input %d, outside the data tokens [0, %d)", c.name, p, in, c.dataVocab)
				}
			}
		}
		pSame := c.toRandom / float64(c.dataVocab) // a random token that happens to be the original
		checks := []struct {
			what string
			k, n int
			p    float64
		}{
			{"selected of real", selected, real, c.prob},
			{"[MASK] of selected", masked, selected, c.toMask},
			{"random of selected", random, selected, c.toRandom - pSame},
			{"kept of selected", kept, selected, 1 - c.toMask - c.toRandom + pSame},
		}
		for _, ch := range checks {
			ok, msg := binomialOK(ch.k, ch.n, ch.p, z)
			if !ok {
				t.Errorf("%s: %s: %s", c.name, ch.what, msg)
			} else {
				t.Logf("%s: %s: %s", c.name, ch.what, msg)
			}
		}
		if c.name == "repeat/bert" && pads == 0 {
			t.Errorf("%s: no padding drawn", c.name)
		}
	}
}

// The random replacement is uniform over the data tokens: a chi-square
// test over the repeat task's 8 tokens.
func TestRandomReplacementUniform(t *testing.T) {
	const V = 8
	o := mustInit(t, sdk.Config{"dataset": "repeat", "seq_len": 32, "repeat_vocab": V, "mask_prob": 1.0, "replace_mask": 0.0, "replace_random": 1.0}, 16, 4)
	var counts [V]int
	n := 0
	for i := range 50 {
		ex := mustBatch(t, o, sdk.Train, i)
		for p, in := range ex.in {
			if ex.km[p] == 1 {
				counts[in]++
				n++
			}
		}
	}
	chi2 := 0.0
	for _, c := range counts {
		e := float64(n) / V
		chi2 += (float64(c) - e) * (float64(c) - e) / e
	}
	// 7 degrees of freedom: P(chi2 > 29.9) ≈ 1e-4.
	if chi2 > 29.9 {
		t.Errorf("random replacements %v over %d draws: chi-square %.1f with 7 degrees of freedom", counts, n, chi2)
	}
}
