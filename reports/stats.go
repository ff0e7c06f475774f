package reports

import (
	"fmt"
	"math"
)

// Stat summarises the finite values of one quantity over a configuration's
// seeds. N is 0 when there was none.
type Stat struct {
	N                   int
	Mean, Std, Min, Max float64 // Std is the sample standard deviation (n-1); 0 when N < 2
}

var nan = math.NaN()

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

// summarise ignores NaN and ±Inf values.
func summarise(vs []float64) Stat {
	var s Stat
	sum := 0.0
	for _, v := range vs {
		if !finite(v) {
			continue
		}
		if s.N == 0 || v < s.Min {
			s.Min = v
		}
		if s.N == 0 || v > s.Max {
			s.Max = v
		}
		s.N++
		sum += v
	}
	if s.N == 0 {
		return Stat{}
	}
	s.Mean = sum / float64(s.N)
	if !finite(s.Mean) { // a sum of huge values overflowed
		return Stat{}
	}
	if s.N > 1 {
		ss := 0.0
		for _, v := range vs {
			if finite(v) {
				ss += (v - s.Mean) * (v - s.Mean)
			}
		}
		s.Std = math.Sqrt(ss / float64(s.N-1))
		if !finite(s.Std) {
			s.Std = 0
		}
	}
	return s
}

// meanStd formats "mean ± std" with prec decimals, the mean alone for one
// value, and "-" for none.
func (s Stat) meanStd(prec int) string {
	switch s.N {
	case 0:
		return "-"
	case 1:
		return fmt.Sprintf("%.*f", prec, s.Mean)
	}
	return fmt.Sprintf("%.*f ± %.*f", prec, s.Mean, prec, s.Std)
}

// mean formats the mean with prec decimals, "-" for none.
func (s Stat) mean(prec int) string {
	if s.N == 0 {
		return "-"
	}
	return fmt.Sprintf("%.*f", prec, s.Mean)
}
