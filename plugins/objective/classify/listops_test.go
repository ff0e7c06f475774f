package classify

import (
	"fmt"
	"math"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// listWords spells token ids as LRA's strings, for messages and the parser.
var listWords = []string{"0", "1", "2", "3", "4", "5", "6", "7", "8", "9", "[MIN", "[MAX", "[MED", "[SM", "]"}

func spell(tokens []int32) string {
	w := make([]string, len(tokens))
	for i, tok := range tokens {
		w[i] = listWords[tok]
	}
	return strings.Join(w, " ")
}

// evaluator is an independent ListOps interpreter: a recursive-descent
// parser over the space-separated words, with the operators written from
// their definitions (np.median then int(), i.e. the float median
// truncated). It also measures the tree's depth and checks arity.
type evaluator struct {
	words   []string
	pos     int
	maxArgs int
}

func evaluate(s string, maxArgs int) (value, depth int, err error) {
	e := &evaluator{words: strings.Fields(s), maxArgs: maxArgs}
	value, depth, err = e.expr()
	if err == nil && e.pos != len(e.words) {
		err = fmt.Errorf("trailing words after position %d", e.pos)
	}
	return value, depth, err
}

func (e *evaluator) expr() (int, int, error) {
	if e.pos >= len(e.words) {
		return 0, 0, fmt.Errorf("unexpected end")
	}
	w := e.words[e.pos]
	e.pos++
	if len(w) == 1 && w[0] >= '0' && w[0] <= '9' {
		return int(w[0] - '0'), 1, nil
	}
	if !strings.HasPrefix(w, "[") {
		return 0, 0, fmt.Errorf("word %d: %q is neither a digit nor an operator", e.pos-1, w)
	}
	var args []int
	depth := 0
	for {
		if e.pos >= len(e.words) {
			return 0, 0, fmt.Errorf("operator %s is never closed", w)
		}
		if e.words[e.pos] == "]" {
			e.pos++
			break
		}
		v, d, err := e.expr()
		if err != nil {
			return 0, 0, err
		}
		args, depth = append(args, v), max(depth, d)
	}
	if len(args) < 2 || len(args) > e.maxArgs {
		return 0, 0, fmt.Errorf("operator %s has %d arguments, want 2 to %d", w, len(args), e.maxArgs)
	}
	sorted := slices.Clone(args)
	sort.Ints(sorted)
	sum := 0
	for _, a := range args {
		sum += a
	}
	n := len(sorted)
	switch w {
	case "[MIN":
		return sorted[0], depth + 1, nil
	case "[MAX":
		return sorted[n-1], depth + 1, nil
	case "[MED":
		med := float64(sorted[n/2])
		if n%2 == 0 {
			med = float64(sorted[n/2-1]+sorted[n/2]) / 2
		}
		return int(math.Trunc(med)), depth + 1, nil
	case "[SM":
		return sum % 10, depth + 1, nil
	}
	return 0, 0, fmt.Errorf("unknown operator %q", w)
}

func TestEvaluatorHandMade(t *testing.T) {
	cases := []struct {
		s            string
		value, depth int
	}{
		{"7", 7, 1},
		{"[MAX 2 9 [MIN 4 7 ] 0 ]", 9, 3}, // the package documentation's example
		{"[MED 3 4 ]", 3, 2},              // (3+4)/2 = 3.5 -> 3
		{"[MED 9 1 2 ]", 2, 2},
		{"[MED 1 2 8 9 ]", 5, 2},
		{"[SM 9 9 5 ]", 3, 2},
		{"[SM [MAX 1 2 ] [MIN 8 9 ] ]", 0, 3},
	}
	for _, c := range cases {
		v, d, err := evaluate(c.s, 10)
		if err != nil || v != c.value || d != c.depth {
			t.Errorf("evaluate(%q) = %d, depth %d, %v; want %d, depth %d", c.s, v, d, err, c.value, c.depth)
		}
	}
	for _, bad := range []string{"[MIN 1 ]", "[MAX 1 2", "1 2", "[FOO 1 2 ]", "]"} {
		if _, _, err := evaluate(bad, 10); err == nil {
			t.Errorf("evaluate(%q) succeeded", bad)
		}
	}
	// The generator's operators agree with the definitions.
	for _, c := range []struct {
		op   int
		args []int
		want int
	}{{0, []int{5, 3, 8}, 3}, {1, []int{5, 3, 8}, 8}, {2, []int{3, 4}, 3}, {2, []int{1, 9, 2}, 2}, {2, []int{0, 9, 9, 9}, 9}, {3, []int{9, 9, 5}, 3}} {
		if got := apply(c.op, c.args); got != c.want {
			t.Errorf("apply(%d, %v) = %d, want %d", c.op, c.args, got, c.want)
		}
	}
}

// Every ListOps example's label is the value the independent evaluator
// computes from its tokens; trees respect the length window, the depth and
// arity limits. The length and label distributions are logged.
func TestListOpsAnswers(t *testing.T) {
	cases := []struct {
		name string
		cfg  sdk.Config
	}{
		{"seq_len 128", sdk.Config{"dataset": "listops", "seq_len": 128}},
		{"seq_len 512 (configs/listops.yaml)", sdk.Config{"dataset": "listops", "seq_len": 512}},
		{"depth 4, args 5, window [5, 40]", sdk.Config{"dataset": "listops", "seq_len": 48, "min_len": 5, "max_len": 40, "max_depth": 4, "max_args": 5}},
	}
	for _, c := range cases {
		const B, batches = 16, 40
		o := mustInit(t, c.cfg, B, 1)
		g := &o.listops
		var lengths []int
		var classes [10]int
		for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
			for i := range batches / 2 {
				for _, x := range mustBatch(t, o, split, i) {
					toks := x.tokens(true)
					s := spell(toks)
					v, d, err := evaluate(s, g.maxArgs)
					switch {
					case err != nil:
						t.Fatalf("%s: %q does not parse: %v", c.name, s, err)
					case int32(v) != x.label:
						t.Fatalf("%s: %q has label %d, the evaluator says %d", c.name, s, x.label, v)
					case d > g.maxDepth:
						t.Fatalf("%s: %q has depth %d > max_depth %d", c.name, s, d, g.maxDepth)
					case len(toks) < g.minLen || len(toks) > g.maxLen:
						t.Fatalf("%s: %q has %d tokens, outside [%d, %d]", c.name, s, len(toks), g.minLen, g.maxLen)
					}
					lengths = append(lengths, len(toks))
					classes[v]++
				}
			}
		}
		slices.Sort(lengths)
		q := func(p float64) int { return lengths[int(p*float64(len(lengths)-1))] }
		t.Logf("%s: window [%d, %d]; %d trees kept of %d drawn (%.1f%%); token lengths min %d, quartiles %d/%d/%d, max %d",
			c.name, g.minLen, g.maxLen, g.kept, g.drawn, 100*float64(g.kept)/float64(g.drawn), lengths[0], q(0.25), q(0.5), q(0.75), lengths[len(lengths)-1])
		t.Logf("%s: labels 0-9 %v; majority class %.1f%%", c.name, classes, 100*float64(slices.Max(classes[:]))/float64(len(lengths)))
	}
}

// Without a length window the generator follows LRA's process: the root
// is a digit with probability 0.75, operators take a uniform 2..max_args
// arguments (mean (2+max_args)/2) and the four operators are equally
// likely. Checked on raw draws within 4.5 standard errors.
func TestListOpsProcess(t *testing.T) {
	const n = 20000
	g := newListOps(1, 1<<20, 10, 10)
	r := rng.New(3)
	leaves, ops, args := 0, [4]int{}, 0
	argsSq := 0
	for i := range n {
		toks, _, err := g.draw(false, 0, r.Split(uint64(i)))
		if err != nil {
			t.Fatal(err)
		}
		if len(toks) == 1 {
			leaves++
			continue
		}
		ops[toks[0]-listMin]++
		k, err := countRootArgs(toks)
		if err != nil {
			t.Fatal(err)
		}
		args += k
		argsSq += k * k
	}
	roots := n - leaves
	check := func(what string, got, want, se float64) {
		t.Helper()
		if math.Abs(got-want) > 4.5*se {
			t.Errorf("%s = %.4f, want %.4f ± %.4f", what, got, want, 4.5*se)
		} else {
			t.Logf("%s = %.4f (want %.4f ± %.4f)", what, got, want, 4.5*se)
		}
	}
	check("P(root is a digit)", float64(leaves)/n, 0.75, math.Sqrt(0.75*0.25/n))
	mean := float64(args) / float64(roots)
	sd := math.Sqrt(float64(argsSq)/float64(roots) - mean*mean)
	check("mean arguments of the root", mean, 6, sd/math.Sqrt(float64(roots)))
	for op, c := range ops {
		check(fmt.Sprintf("P(root operator %s)", listWords[listMin+op]), float64(c)/float64(roots), 0.25, math.Sqrt(0.25*0.75/float64(roots)))
	}
}

// countRootArgs returns the number of arguments of the operator at
// toks[0], by bracket depth.
func countRootArgs(toks []int32) (int, error) {
	depth, k := 0, 0
	for _, tok := range toks[1:] {
		switch {
		case tok == listEnd && depth == 0:
			return k, nil
		case tok == listEnd:
			depth--
		case tok >= listMin:
			if depth == 0 {
				k++
			}
			depth++
		default:
			if depth == 0 {
				k++
			}
		}
	}
	return 0, fmt.Errorf("unclosed root in %s", spell(toks))
}
