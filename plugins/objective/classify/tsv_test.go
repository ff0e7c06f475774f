package classify

import (
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Labels become classes in sorted byte order; texts are the bytes after
// the first tab (more tabs included), cut to seq_len - 1 after [CLS];
// eval batches walk the held-out lines in file order.
func TestTextLabelsAndTexts(t *testing.T) {
	var lines []string
	want := map[string]string{} // text -> label
	for i := range 60 {
		label := []string{"pos", " neg ", "Neutral"}[i%3]
		text := strings.Repeat("ab", i%7) + "line " + string(rune('A'+i%26)) + "\tend" + strings.Repeat("!", i)
		lines = append(lines, label+"\t"+text)
		want[text] = strings.TrimSpace(label)
	}
	path := objectivetest.WriteFile(t, "labelled.tsv", []byte(strings.Join(lines, "\r\n")+"\n\n"))
	const T = 30
	o := mustInit(t, sdk.Config{"dataset": "text", "path": path, "seq_len": T, "eval_fraction": 0.3}, 4, 1)
	if wantLabels := []string{"Neutral", "neg", "pos"}; !slices.Equal(o.labels, wantLabels) || o.classes != 3 {
		t.Fatalf("labels %q (%d classes), want %q", o.labels, o.classes, wantLabels)
	}
	if n := len(o.lines[0]) + len(o.lines[1]); n != 60 {
		t.Fatalf("%d examples, want 60", n)
	}
	for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
		for i := range 5 {
			for e, x := range mustBatch(t, o, split, i) {
				got := string(toBytes(x.tokens(true)))
				found := false
				for text, label := range want {
					cut := text[:min(len(text), T-1)]
					if cut == got && o.labels[x.label] == label {
						found = true
					}
				}
				if !found {
					t.Fatalf("%s batch %d: text %q with label %q is no line of the file cut to %d bytes", split, i, got, o.labels[x.label], T-1)
				}
				if split == sdk.Eval {
					l := o.lines[1][(i%4*4+e)%len(o.lines[1])] // eval_batches 4: batch i is batch i mod 4
					if string(l.text) != got {
						t.Errorf("eval batch %d example %d is %q, want eval line %q", i, e, got, l.text)
					}
				}
			}
		}
	}
}

func toBytes(x []int32) []byte {
	b := make([]byte, len(x))
	for i, v := range x {
		b[i] = byte(v)
	}
	return b
}

// The committed example file: three colours, 120 lines each.
func TestColoursFile(t *testing.T) {
	o := mustInit(t, configs()["text"], 8, 1)
	if !slices.Equal(o.labels, []string{"blue", "green", "red"}) {
		t.Errorf("labels %q", o.labels)
	}
	t.Logf("colours.tsv: %d train and %d eval lines", len(o.lines[0]), len(o.lines[1]))
}

func TestTextRejects(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, file string // file "-": no file
		want       string
	}{
		{"missing", "-", "cannot read path"},
		{"empty", "", "labelled.tsv is empty: want one label<TAB>text example per line"},
		{"blank", "\n\n", "labelled.tsv has no example"},
		{"not UTF-8", "a\tok\nb\tna\xefve\n", "labelled.tsv:2:5: not UTF-8 (byte 0xef)"},
		{"no tab", "a\tok\nb ok\n", "labelled.tsv:2: no tab: want label<TAB>text"},
		{"empty label", "a\tok\n \tok\n", "labelled.tsv:2: the label (before the first tab) is empty"},
		{"empty text", "a\tok\nb\t\r\n", "labelled.tsv:2: the text (after the first tab) is empty"},
		{"one label", "a\tx\na\ty\n", `has the single label "a": classification needs at least two`},
		{"one split empty", "a\tx\nb\tx\n", "puts 2 of its 2 examples in train and 0 in eval"},
	}
	for _, c := range cases {
		path := filepath.Join(dir, "nope.tsv")
		if c.file != "-" {
			path = objectivetest.WriteFile(t, "labelled.tsv", []byte(c.file))
		}
		o := New()
		_, err := o.Init(sdk.Config{"dataset": "text", "path": path, "seq_len": 16}, 2, 1)
		if err == nil || !strings.Contains(err.Error(), c.want) || !strings.Contains(err.Error(), path) && c.name != "one label" {
			t.Errorf("%s: Init = %v, want an error naming %s and containing %q", c.name, err, path, c.want)
		}
		if _, err := o.Batch(sdk.Train, 0); err == nil {
			t.Errorf("%s: Batch after a failed Init succeeded", c.name)
		}
	}
}
