package causallm

import (
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/plugins/objective/internal/objectivetest"
	"github.com/attnlab/attnlab/plugins/sdk"
)

const ign = sdk.IgnoreIndex

// The documented T = 6 example, with symbolic data: a b c Sep a b -> - - - a b c.
func TestCopyLayoutExample(t *testing.T) {
	o := mustInit(t, sdk.Config{"dataset": "copy", "seq_len": 6}, 1, 1)
	in, tg := mustBatch(t, o, sdk.Train, 0)
	a, b, c := in[0], in[1], in[2]
	if wantIn := []int32{a, b, c, Sep, a, b}; !slices.Equal(in, wantIn) {
		t.Errorf("inputs %v, want %v", in, wantIn)
	}
	if wantTg := []int32{ign, ign, ign, a, b, c}; !slices.Equal(tg, wantTg) {
		t.Errorf("targets %v, want %v", tg, wantTg)
	}
}

func TestCopyLayout(t *testing.T) {
	for _, T := range []int{2, 3, 4, 7, 10, 31} {
		for _, V := range []int{2, 16, 254} {
			o := mustInit(t, sdk.Config{"dataset": "copy", "seq_len": T, "copy_vocab": V}, 3, uint64(T))
			in, tg := mustBatch(t, o, sdk.Eval, 1)
			L := T / 2
			for e := range 3 {
				x, y := in[e*T:(e+1)*T], tg[e*T:(e+1)*T]
				for i := range L {
					if x[i] < 0 || int(x[i]) >= V {
						t.Fatalf("T=%d V=%d: data token %d outside [0, %d)", T, V, x[i], V)
					}
				}
				if x[L] != Sep {
					t.Errorf("T=%d: input %d is %d, want Sep", T, L, x[L])
				}
				for p := range T {
					switch {
					case p > L && x[p] != x[p-L-1]:
						t.Errorf("T=%d: input %d = %d, want a copy of input %d = %d", T, p, x[p], p-L-1, x[p-L-1])
					case p >= L && p < 2*L && y[p] != x[p-L]:
						t.Errorf("T=%d: target %d = %d, want the copied token %d", T, p, y[p], x[p-L])
					case (p < L || p >= 2*L) && y[p] != ign:
						t.Errorf("T=%d: target %d = %d, want IgnoreIndex", T, p, y[p])
					}
				}
				// The next-token relation holds wherever a target is scored.
				for p := range T - 1 {
					if y[p] != ign && y[p] != x[p+1] {
						t.Errorf("T=%d: target %d = %d is not input %d = %d", T, p, y[p], p+1, x[p+1])
					}
				}
			}
		}
	}
}

// The documented N = 2, T = 8 example: k0 v0 k1 v1 kq vq kq' vq' -> scored at 4 and 6.
func TestMQARLayoutExample(t *testing.T) {
	o := mustInit(t, sdk.Config{"dataset": "mqar", "seq_len": 8, "mqar_pairs": 2}, 1, 1)
	in, tg := mustBatch(t, o, sdk.Train, 0)
	want := []int32{ign, ign, ign, ign, in[5], ign, in[7], ign}
	if !slices.Equal(tg, want) {
		t.Errorf("inputs %v: targets %v, want %v", in, tg, want)
	}
	if !(in[4] == in[0] && in[5] == in[1] && in[6] == in[2] && in[7] == in[3]) &&
		!(in[4] == in[2] && in[5] == in[3] && in[6] == in[0] && in[7] == in[1]) {
		t.Errorf("inputs %v: queries are not the two pairs, each once", in)
	}
}

func TestMQARLayout(t *testing.T) {
	cases := []struct{ N, K, V, T int }{
		{1, 1, 1, 3}, {1, 5, 5, 4}, {2, 2, 2, 5}, {3, 10, 3, 7}, {4, 8, 8, 20},
		{4, 8, 8, 21}, {8, 100, 154, 64}, {16, 64, 64, 256}, {16, 64, 64, 257},
	}
	for _, c := range cases {
		cfg := sdk.Config{"dataset": "mqar", "seq_len": c.T, "mqar_pairs": c.N, "mqar_keys": c.K, "mqar_values": c.V}
		o := mustInit(t, cfg, 4, uint64(c.T))
		in, tg := mustBatch(t, o, sdk.Train, 3)
		N, T := c.N, c.T
		Q := (T + 1 - 2*N) / 2
		for e := range 4 {
			x, y := in[e*T:(e+1)*T], tg[e*T:(e+1)*T]
			value := map[int32]int32{} // key -> value
			usedV := map[int32]bool{}
			for i := range N {
				k, v := x[2*i], x[2*i+1]
				if k < 0 || int(k) >= c.K || int(v) < c.K || int(v) >= c.K+c.V {
					t.Fatalf("%+v: pair %d = (%d, %d) outside keys [0, %d) and values [%d, %d)", c, i, k, v, c.K, c.K, c.K+c.V)
				}
				if _, dup := value[k]; dup || usedV[v] {
					t.Fatalf("%+v: pairs %v repeat a key or value", c, x[:2*N])
				}
				value[k], usedV[v] = v, true
			}
			asked := map[int32]int{}
			for p := range T {
				j, isKey := (p-2*N)/2, p >= 2*N && (p-2*N)%2 == 0
				switch {
				case p < 2*N:
					if y[p] != ign {
						t.Errorf("%+v: target %d in the pairs = %d, want IgnoreIndex", c, p, y[p])
					}
				case isKey && j < Q:
					v, ok := value[x[p]]
					if !ok {
						t.Fatalf("%+v: query %d asks key %d, which is not in the pairs %v", c, j, x[p], x[:2*N])
					}
					if y[p] != v {
						t.Errorf("%+v: target %d = %d, want the value %d of key %d", c, p, y[p], v, x[p])
					}
					if p+1 < T && x[p+1] != v {
						t.Errorf("%+v: input %d = %d, want value %d after its key", c, p+1, x[p+1], v)
					}
					if j < N {
						asked[x[p]]++
					}
				default:
					if y[p] != ign {
						t.Errorf("%+v: target %d after a value = %d, want IgnoreIndex", c, p, y[p])
					}
				}
			}
			// The first min(N, Q) queries ask distinct keys.
			if len(asked) != min(N, Q) {
				t.Errorf("%+v: the first %d queries ask %d distinct keys", c, min(N, Q), len(asked))
			}
		}
	}
}

func TestTextLayout(t *testing.T) {
	// Train bytes are below 128 and eval bytes at or above, so a window
	// crossing the boundary or drawn from the wrong split shows at once.
	const n, T = 1000, 12
	cut := trainBytes(n)
	data := append(randomBytes(cut, 0, 128, 1), randomBytes(n-cut, 128, 256, 2)...)
	o := mustInit(t, sdk.Config{"dataset": "text", "seq_len": T, "path": objectivetest.WriteFile(t, "corpus.txt", data)}, 5, 9)
	starts := map[sdk.Split]map[int]bool{sdk.Train: {}, sdk.Eval: {}}
	for _, split := range []sdk.Split{sdk.Train, sdk.Eval} {
		lo, hi := 0, cut
		if split == sdk.Eval {
			lo, hi = cut, n
		}
		for i := range 8 {
			in, tg := mustBatch(t, o, split, i)
			for e := range 5 {
				x, y := in[e*T:(e+1)*T], tg[e*T:(e+1)*T]
				window := append(slices.Clone(x), y[T-1])
				start := -1
				for s := lo; s+T+1 <= hi; s++ {
					if slices.Equal(window, bytesToInts(data[s:s+T+1])) {
						start = s
						break
					}
				}
				if start < 0 {
					t.Fatalf("%s batch %d example %d: %v is no window of %d bytes inside [%d, %d)", split, i, e, window, T+1, lo, hi)
				}
				starts[split][start] = true
				if !slices.Equal(y[:T-1], x[1:]) {
					t.Errorf("%s: targets %v are not the inputs %v shifted by one", split, y, x)
				}
			}
		}
	}
	if len(starts[sdk.Train]) < 20 || len(starts[sdk.Eval]) < 10 {
		t.Errorf("window starts not spread: %d train, %d eval (eval cycles over 4 batches of 5)", len(starts[sdk.Train]), len(starts[sdk.Eval]))
	}
}

// A file of exactly minTextBytes(T+1) bytes is enough; the eval split may
// then hold exactly one window, which every eval example is.
func TestTextShortestFile(t *testing.T) {
	const T = 8
	n := minTextBytes(T + 1)
	if n-trainBytes(n) != T+1 || (n-1)-trainBytes(n-1) >= T+1 {
		t.Fatalf("minTextBytes(%d) = %d, eval split %d: not the smallest file", T+1, n, n-trainBytes(n))
	}
	data := randomBytes(n, 0, 256, 4)
	o := mustInit(t, sdk.Config{"dataset": "text", "seq_len": T, "path": objectivetest.WriteFile(t, "corpus.txt", data)}, 2, 1)
	in, tg := mustBatch(t, o, sdk.Eval, 3)
	eval := bytesToInts(data[trainBytes(n):])
	for e := range 2 {
		if !slices.Equal(in[e*T:(e+1)*T], eval[:T]) || !slices.Equal(tg[e*T:(e+1)*T], eval[1:]) {
			t.Errorf("eval example %d = %v -> %v, want the whole eval split %v", e, in[e*T:(e+1)*T], tg[e*T:(e+1)*T], eval)
		}
	}
	_, err := New().Init(sdk.Config{"dataset": "text", "seq_len": T, "path": objectivetest.WriteFile(t, "corpus.txt", data[:n-1])}, 1, 1)
	if err == nil || !strings.Contains(err.Error(), "eval bytes") {
		t.Errorf("a file of %d bytes: %v, want a too-short error", n-1, err)
	}
}

func bytesToInts(b []byte) []int32 {
	x := make([]int32, len(b))
	for i, v := range b {
		x[i] = int32(v)
	}
	return x
}
