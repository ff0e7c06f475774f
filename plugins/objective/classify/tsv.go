package classify

import (
	"bytes"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/attnlab/attnlab/kernels/rng"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// line is one example of a text file: its text (cut to fit) and class id.
type line struct {
	text  []byte
	label int
}

// initText reads the labelled lines of the file at path, maps the sorted
// distinct labels to class ids, cuts every text to room bytes and
// partitions the lines by the hash of their (cut) text.
func (o *objective) initText(path string, room int) error {
	if path == "" {
		return errorf("dataset text needs parameter \"path\", a UTF-8 file with one label<TAB>text example per line")
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return errorf("dataset text: cannot read path %q: %v", path, err)
	}
	texts, names, err := parseLabelled(path, data)
	if err != nil {
		return errorf("dataset text: %v", err)
	}
	labels := slices.Clone(names)
	slices.Sort(labels)
	labels = slices.Compact(labels)
	if len(labels) < 2 {
		return errorf("dataset text: %s has the single label %q: classification needs at least two", path, labels[0])
	}
	o.labels = labels
	tokens := make([]int32, room)
	cut := 0
	for i, text := range texts {
		if len(text) > room {
			text, cut = text[:room], cut+1
		}
		id, _ := slices.BinarySearch(labels, names[i])
		s := 0
		for j, c := range text {
			tokens[j] = int32(c)
		}
		if objectives.HeldOut(tokens[:len(text)], o.evalFraction) {
			s = 1
		}
		o.lines[s] = append(o.lines[s], line{text: text, label: id})
	}
	if len(o.lines[0]) == 0 || len(o.lines[1]) == 0 {
		return errorf("dataset text: %s: the hash partition puts %d of its %d examples in train and %d in eval (eval_fraction %v), "+
			"but each split needs at least one: use a file with more distinct texts or another eval_fraction",
			path, len(o.lines[0]), len(texts), len(o.lines[1]), o.evalFraction)
	}
	mapping := make([]string, len(labels))
	for i, l := range labels {
		mapping[i] = fmt.Sprintf("%d=%q", i, l)
	}
	sdk.Logger().Info("classify text", "path", path, "examples", len(texts), "train", len(o.lines[0]), "eval", len(o.lines[1]),
		"cut_to_fit", cut, "classes", strings.Join(mapping, " "))
	return nil
}

// parseLabelled splits data, the contents of the file at path, into the
// texts and labels of its label<TAB>text lines (labels trimmed of spaces,
// texts as they are after the first tab). Empty lines are skipped and a
// trailing CR dropped. Errors name the file and the 1-based line: a file
// that is empty or has no example, a line that is not UTF-8, has no tab,
// an empty label or an empty text.
func parseLabelled(path string, data []byte) (texts [][]byte, labels []string, err error) {
	if len(data) == 0 {
		return nil, nil, fmt.Errorf("%s is empty: want one label<TAB>text example per line", path)
	}
	err = objectives.Lines(path, data, func(n int, l []byte) error {
		label, text, ok := bytes.Cut(l, []byte("\t"))
		label = bytes.TrimSpace(label)
		switch {
		case !ok:
			return fmt.Errorf("%s:%d: no tab: want label<TAB>text", path, n)
		case len(label) == 0:
			return fmt.Errorf("%s:%d: the label (before the first tab) is empty", path, n)
		case len(text) == 0:
			return fmt.Errorf("%s:%d: the text (after the first tab) is empty", path, n)
		}
		texts, labels = append(texts, text), append(labels, string(label))
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	if len(texts) == 0 {
		return nil, nil, fmt.Errorf("%s has no example, only empty lines: want one label<TAB>text example per line", path)
	}
	return texts, labels, nil
}

// textExample writes the text of example k of split s into body and
// returns its length and class: a uniform draw from the train lines, or
// eval line k (wrapping) in file order.
func (o *objective) textExample(body []int32, s, k int, r *rng.RNG) (n, label int) {
	ls := o.lines[s]
	var l line
	if s == 0 {
		l = ls[r.Intn(len(ls))]
	} else {
		l = ls[k%len(ls)]
	}
	for i, c := range l.text {
		body[i] = int32(c)
	}
	return len(l.text), l.label
}
