package seq2seq

import (
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/tensor"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectives"
	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

func TestDescribe(t *testing.T) {
	d := New().Describe()
	want := sdk.Config{"dataset": "reverse", "path": "", "seq_len": int64(16), "min_len": int64(1), "symbols": int64(10),
		"digits": int64(3), "target_len": int64(64), "eval_fraction": 0.1, "eval_batches": int64(4)}
	objectivetest.CheckDescribe(t, d, "seq2seq", want)
	o := mustInit(t, nil, 2, 1)
	if o.seqLen != 16 || o.targetLen != 17 {
		t.Errorf("defaults: seq_len %d, target_len %d, want 16 and 17", o.seqLen, o.targetLen)
	}
	if o := mustInit(t, sdk.Config{"dataset": "add", "digits": 5, "seq_len": 11}, 1, 1); o.targetLen != 7 {
		t.Errorf("add with 5 digits: target_len %d, want 7 (6 digits and EOS)", o.targetLen)
	}
}

func TestInitRejects(t *testing.T) {
	dir := t.TempDir()
	long := strings.Repeat("x", 40)
	cases := []struct {
		name string
		raw  sdk.Config
		file string // for dataset=text: the file's contents ("-" for no file)
		want []string
	}{
		{"unknown parameter", sdk.Config{"vocab": 3}, "-", []string{`has no parameter "vocab"`}},
		{"min_len", sdk.Config{"seq_len": 4, "min_len": 5}, "-", []string{"min_len 5 must be at most seq_len 4"}},
		{"add too long", sdk.Config{"dataset": "add", "digits": 4, "seq_len": 8}, "-", []string{"needs seq_len at least 9", "got 8"}},
		{"tiny task", sdk.Config{"seq_len": 1, "symbols": 2, "eval_fraction": 0.001}, "-", []string{"no source of the eval split", "too few distinct sources"}},
		{"no path", sdk.Config{"dataset": "text"}, "-", []string{`needs parameter "path"`}},
		{"missing", sdk.Config{"dataset": "text", "path": filepath.Join(dir, "nope.tsv")}, "-", []string{"cannot read path", "nope.tsv", "no such file"}},
		{"empty", sdk.Config{"dataset": "text"}, "", []string{"pairs.tsv is empty"}},
		{"only blank lines", sdk.Config{"dataset": "text"}, "\n\r\n\n", []string{"pairs.tsv has no pair"}},
		{"not UTF-8", sdk.Config{"dataset": "text"}, "a\tb\nca\xf1on\tc\n", []string{"pairs.tsv:2:3: not UTF-8 (byte 0xf1)"}},
		{"no tab", sdk.Config{"dataset": "text"}, "a\tb\n\nc d\n", []string{"pairs.tsv:3: want source<TAB>target with exactly one tab, found 0"}},
		{"two tabs", sdk.Config{"dataset": "text"}, "a\tb\tc\n", []string{"pairs.tsv:1: want source<TAB>target with exactly one tab, found 2"}},
		{"empty source", sdk.Config{"dataset": "text"}, "a\tb\n\tc\n", []string{"pairs.tsv:2: the source (before the tab) is empty"}},
		{"empty target", sdk.Config{"dataset": "text"}, "a\t\r\n", []string{"pairs.tsv:1: the target (after the tab) is empty"}},
		{"source too long", sdk.Config{"dataset": "text", "seq_len": 16}, "a\tb\n" + long + "\tb\n", []string{"pairs.tsv:2: the source has 40 bytes, more than seq_len 16"}},
		{"target too long", sdk.Config{"dataset": "text", "target_len": 8}, "a\t" + long + "\n", []string{"pairs.tsv:1: the target has 40 bytes, more than target_len 8"}},
		{"one split empty", sdk.Config{"dataset": "text"}, "a\tb\n", []string{"puts 1 of its 1 pairs in train and 0 in eval", "each split needs at least one"}},
	}
	for _, c := range cases {
		raw := sdk.Config{}
		for k, v := range c.raw {
			raw[k] = v
		}
		if c.file != "-" {
			raw["path"] = objectivetest.WriteFile(t, "pairs.tsv", []byte(c.file))
		}
		o := New()
		_, err := o.Init(raw, 2, 1)
		if err == nil {
			t.Errorf("%s: Init succeeded", c.name)
			continue
		}
		for _, w := range c.want {
			if !strings.Contains(err.Error(), w) {
				t.Errorf("%s: error %q does not contain %q", c.name, err, w)
			}
		}
		if _, err := o.Batch(sdk.Train, 0); err == nil {
			t.Errorf("%s: Batch after a failed Init succeeded", c.name)
		}
	}
	if _, err := New().Init(nil, 0, 1); err == nil || !strings.Contains(err.Error(), "batch size 0") {
		t.Errorf("batch 0: %v", err)
	}
}

func TestBatchRejects(t *testing.T) {
	objectivetest.CheckBatchRejects(t, New(), mustInit(t, nil, 1, 1))
}

// Every example of every dataset has the documented layout, and its
// target is the task's function of its source.
func TestLayout(t *testing.T) {
	lines, err := os.ReadFile("testdata/numbers.tsv")
	if err != nil {
		t.Fatal(err)
	}
	for name, cfg := range configs() {
		o := mustInit(t, cfg, 8, 3)
		U := o.targetLen
		lengths := map[int]bool{}
		for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
			for i := range 6 {
				for _, x := range mustBatch(t, o, split, i) {
					src, y := x.source(), x.target()
					n, m := len(src), len(y)
					lengths[n] = true
					switch {
					case n == 0 || slices.ContainsFunc(x.km[n:], func(v int32) bool { return v != 0 }):
						t.Fatalf("%s: key mask %v is not ones then zeros", name, x.km)
					case slices.ContainsFunc(x.in[n:], func(v int32) bool { return v != Pad }):
						t.Fatalf("%s: inputs %v are not padded with Pad after %d tokens", name, x.in, n)
					case m >= U || x.tg[m] != EOS || slices.ContainsFunc(x.tg[m+1:], func(v int32) bool { return v != ign }):
						t.Fatalf("%s: targets %v are not y EOS ign..", name, x.tg)
					case x.dec[0] != BOS || !slices.Equal(x.dec[1:m+1], y) || slices.ContainsFunc(x.dec[m+1:], func(v int32) bool { return v != Pad }):
						t.Fatalf("%s: decoder inputs %v are not BOS then targets %v shifted right, then Pad", name, x.dec, x.tg)
					case slices.ContainsFunc(src, func(v int32) bool { return v < 0 || v > 255 }) || slices.ContainsFunc(y, func(v int32) bool { return v < 0 || v > 255 }):
						t.Fatalf("%s: source %v or target %v holds a special token", name, src, y)
					}
					checkTask(t, name, cfg, src, y, lines)
				}
			}
		}
		if name != "add" && name != "text" && len(lengths) < 3 {
			t.Errorf("%s: source lengths %v: want variety", name, lengths)
		}
	}
}

// checkTask checks one example's target against its source.
func checkTask(t *testing.T, name string, cfg sdk.Config, src, y []int32, lines []byte) {
	t.Helper()
	str := func(x []int32) string {
		b := make([]byte, len(x))
		for i, v := range x {
			b[i] = byte(v)
		}
		return string(b)
	}
	switch name {
	case "reverse", "sort":
		want := slices.Clone(src)
		if name == "sort" {
			slices.Sort(want)
		} else {
			slices.Reverse(want)
		}
		symbols := int32(cfg["symbols"].(int))
		if !slices.Equal(y, want) || slices.ContainsFunc(src, func(v int32) bool { return v >= symbols }) {
			t.Fatalf("%s: source %v, target %v, want %v over %d symbols", name, src, y, want, symbols)
		}
	case "add":
		a, b, ok := strings.Cut(str(src), "+")
		x1, err1 := strconv.ParseInt(a, 10, 64)
		x2, err2 := strconv.ParseInt(b, 10, 64)
		noLeadingZero := func(s string) bool { return s == "0" || !strings.HasPrefix(s, "0") }
		if !ok || err1 != nil || err2 != nil || x1 >= 10000 || x2 >= 10000 || !noLeadingZero(a) || !noLeadingZero(b) {
			t.Fatalf("add: source %q is not a+b with two numbers of at most 4 digits", str(src))
		}
		if got, want := str(y), strconv.FormatInt(x1+x2, 10); got != want {
			t.Fatalf("add: %q -> %q, want %q", str(src), got, want)
		}
	case "text":
		if line := str(src) + "\t" + str(y) + "\n"; !strings.Contains("\n"+string(lines), "\n"+line) {
			t.Fatalf("text: pair %q is not a line of the file", line)
		}
	}
}

// The same (split, index) gives the same batch whatever was asked before;
// other indices, splits and seeds give other batches; eval wraps at
// eval_batches; the first examples do not depend on the batch size.
func TestDeterminism(t *testing.T) {
	for name, cfg := range configs() {
		a, b := mustInit(t, cfg, 3, 7), mustInit(t, cfg, 3, 7)
		for _, i := range []int{5, 0, 2} {
			b.Batch(sdk.Eval, i)
			b.Batch(sdk.Train, i)
		}
		for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
			for i := range 3 {
				if x, y := mustBatch(t, a, split, i), mustBatch(t, b, split, i); !slices.EqualFunc(x, y, equalExample) {
					t.Errorf("%s: Batch(%s, %d) differs between two objectives of the same seed", name, split, i)
				}
			}
		}
		if slices.EqualFunc(mustBatch(t, a, sdk.Train, 0), mustBatch(t, a, sdk.Train, 1), equalExample) {
			t.Errorf("%s: train batches 0 and 1 are equal", name)
		}
		if slices.EqualFunc(mustBatch(t, a, sdk.Train, 0), mustBatch(t, mustInit(t, cfg, 3, 8), sdk.Train, 0), equalExample) {
			t.Errorf("%s: seeds 7 and 8 give the same train batch", name)
		}
		if !slices.EqualFunc(mustBatch(t, a, sdk.Eval, 1), mustBatch(t, a, sdk.Eval, 5), equalExample) {
			t.Errorf("%s: eval batch 5 is not eval batch 1 (eval_batches 4)", name)
		}
		if name != "text" { // text eval takes pairs in file order by position in the eval set
			one := mustBatch(t, mustInit(t, cfg, 1, 7), sdk.Train, 2)
			if !equalExample(mustBatch(t, a, sdk.Train, 2)[0], one[0]) {
				t.Errorf("%s: example 0 of batch 2 depends on the batch size", name)
			}
		}
	}
}

func equalExample(x, y example) bool {
	return slices.Equal(x.in, y.in) && slices.Equal(x.km, y.km) && slices.Equal(x.dec, y.dec) && slices.Equal(x.tg, y.tg)
}

// Train and eval sources lie on their sides of the hash partition, and a
// sample of each split never shares a source with the other.
func TestSplitsDisjoint(t *testing.T) {
	for name, cfg := range configs() {
		o := mustInit(t, cfg, 16, 11)
		seen := map[sdk.Split]map[string]bool{sdk.Train: {}, sdk.Eval: {}}
		for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
			for i := range 20 {
				for _, x := range mustBatch(t, o, split, i) {
					if objectives.HeldOut(x.source(), 0.1) != (split == sdk.Eval) {
						t.Fatalf("%s: %s source %v is on the wrong side of the hash partition", name, split, x.source())
					}
					var key strings.Builder
					for _, v := range x.source() {
						key.WriteString(strconv.Itoa(int(v)) + ",")
					}
					seen[split][key.String()] = true
				}
			}
		}
		for k := range seen[sdk.Eval] {
			if seen[sdk.Train][k] {
				t.Errorf("%s: source %s is in both splits", name, k)
			}
		}
		t.Logf("%s: %d distinct train and %d distinct eval sources sampled, none shared", name, len(seen[sdk.Train]), len(seen[sdk.Eval]))
	}
}

// The numbers file parses into 1000 pairs; eval batches walk the held-out
// pairs in file order.
func TestTextPairs(t *testing.T) {
	o := mustInit(t, configs()["text"], 4, 1)
	if n := len(o.pairs[0]) + len(o.pairs[1]); n != 1000 {
		t.Fatalf("%d pairs, want 1000", n)
	}
	t.Logf("numbers.tsv: %d train and %d eval pairs", len(o.pairs[0]), len(o.pairs[1]))
	for i := range 3 {
		for e, x := range mustBatch(t, o, sdk.Eval, i) {
			p := o.pairs[1][(i*4+e)%len(o.pairs[1])]
			if string(p.src) != string(toBytes(x.source())) || string(p.tgt) != string(toBytes(x.target())) {
				t.Errorf("eval batch %d example %d is %q, want eval pair %q", i, e, toBytes(x.source()), p.src)
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

// After Init, Batch and Loss allocate nothing.
func TestNoAllocations(t *testing.T) {
	for name, cfg := range configs() {
		o := mustInit(t, cfg, 2, 1)
		out := tensor.New(2, o.targetLen, Vocab)
		i := 0
		run := func() {
			i++
			for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
				b, err := o.Batch(split, i)
				if err != nil {
					t.Fatal(err)
				}
				if _, _, _, err := o.Loss(out, b); err != nil {
					t.Fatal(err)
				}
			}
		}
		run()
		if n := testing.AllocsPerRun(20, run); n != 0 {
			t.Errorf("%s: Batch+Loss allocate %v times per call, want 0", name, n)
		}
	}
}
