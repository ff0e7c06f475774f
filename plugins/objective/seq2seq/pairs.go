package seq2seq

import (
	"bytes"
	"fmt"
	"os"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
)

// pair is one source-target pair of a text file (slices of its bytes).
type pair struct{ src, tgt []byte }

// initText reads the pairs file and partitions its pairs by source hash
// into train and eval.
func (o *objective) initText(path string, maxTarget int) error {
	if path == "" {
		return errorf("dataset text needs parameter \"path\", a UTF-8 file with one source<TAB>target pair per line")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return errorf("dataset text: cannot read path %q: %v", path, err)
	}
	pairs, err := parsePairs(path, data, o.seqLen, maxTarget)
	if err != nil {
		return errorf("dataset text: %v", err)
	}
	tokens := make([]int32, o.seqLen)
	for _, p := range pairs {
		s := 0
		if objectives.HeldOut(tokens[:copyBytes(tokens, p.src)], o.evalFraction) {
			s = 1
		}
		o.pairs[s] = append(o.pairs[s], p)
	}
	if len(o.pairs[0]) == 0 || len(o.pairs[1]) == 0 {
		return errorf("dataset text: %s: the hash partition puts %d of its %d pairs in train and %d in eval (eval_fraction %v), "+
			"but each split needs at least one: use a file with more distinct sources or another eval_fraction",
			path, len(o.pairs[0]), len(pairs), len(o.pairs[1]), o.evalFraction)
	}
	return nil
}

// parsePairs splits data, the contents of the file at path, into
// source<TAB>target pairs, one per line. Empty lines are skipped and a
// trailing CR is dropped. Errors name the file and the 1-based line: a
// file that is empty or has no pair, a line that is not UTF-8, that has
// not exactly one tab, an empty source or target, a source longer than
// maxSource bytes or a target longer than maxTarget bytes.
func parsePairs(path string, data []byte, maxSource, maxTarget int) ([]pair, error) {
	if len(data) == 0 {
		return nil, fmt.Errorf("%s is empty: want one source<TAB>target pair per line", path)
	}
	var pairs []pair
	err := objectives.Lines(path, data, func(line int, text []byte) error {
		if tabs := bytes.Count(text, []byte("\t")); tabs != 1 {
			return fmt.Errorf("%s:%d: want source<TAB>target with exactly one tab, found %d", path, line, tabs)
		}
		src, tgt, _ := bytes.Cut(text, []byte("\t"))
		switch {
		case len(src) == 0:
			return fmt.Errorf("%s:%d: the source (before the tab) is empty", path, line)
		case len(tgt) == 0:
			return fmt.Errorf("%s:%d: the target (after the tab) is empty", path, line)
		case len(src) > maxSource:
			return fmt.Errorf("%s:%d: the source has %d bytes, more than seq_len %d: raise seq_len or shorten the line", path, line, len(src), maxSource)
		case len(tgt) > maxTarget:
			return fmt.Errorf("%s:%d: the target has %d bytes, more than target_len %d: raise target_len or shorten the line", path, line, len(tgt), maxTarget)
		}
		pairs = append(pairs, pair{src: src, tgt: tgt})
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(pairs) == 0 {
		return nil, fmt.Errorf("%s has no pair, only empty lines: want one source<TAB>target pair per line", path)
	}
	return pairs, nil
}

// textExample writes the pair of example k of split s into o.src and
// o.tgt: a uniform draw from the train pairs, or eval pair k (wrapping) in
// file order.
func (o *objective) textExample(s, k int, r *rng.RNG) (n, m int) {
	ps := o.pairs[s]
	var p pair
	if s == 0 {
		p = ps[r.Intn(len(ps))]
	} else {
		p = ps[k%len(ps)]
	}
	return copyBytes(o.src, p.src), copyBytes(o.tgt, p.tgt)
}
