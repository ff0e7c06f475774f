package attention

import (
	"math"
	"slices"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/kernels/tensor"
)

// Sliding-window attention with global tokens (Beltagy et al. 2020,
// "Longformer", §3.1): each query attends to a window of keys around it,
// optionally dilated, and a few global tokens attend to, and are attended
// by, every position. The kernel is the tiled flash engine (tiled.go)
// visiting only the keys of each query block's band and the global keys,
// so its cost is O(T·(w + g)) for g global tokens, and its memory, like
// flash's, is linear in T. The paper gives global attention its own
// projections (Q_g, K_g, V_g, §3.1); those belong to the caller, which
// passes whichever q, k and v it wants attended.

// WindowOptions configures sliding-window attention.
type WindowOptions struct {
	Options
	// Window is w: a query sees the keys within w/2 positions on each
	// side (w/2 rounded down), or under Causal itself and the w previous
	// positions.
	Window int
	// Dilation δ spaces the window: with δ > 1 a query at i sees only
	// keys j with i − j a multiple of δ, |i − j| <= δ·(w/2) (or
	// 0 <= i − j <= δ·w under Causal). 0 means 1.
	Dilation int
	// Global lists the positions of global tokens: they see every key
	// (every earlier key under Causal), and every query sees them (if
	// not after it under Causal).
	Global []int
}

func (o WindowOptions) dilation() int { return max(1, o.Dilation) }

// reach is how far the window extends before (left) and after (right)
// a query.
func (o WindowOptions) reach() (left, right int) {
	if o.Causal {
		return o.dilation() * o.Window, 0
	}
	return o.dilation() * (o.Window / 2), o.dilation() * (o.Window / 2)
}

// Sees reports whether query i may attend to key j (before any key mask):
// the definition the kernel implements.
func (o WindowOptions) Sees(i, j int) bool {
	if o.Causal && j > i {
		return false
	}
	if slices.Contains(o.Global, i) || slices.Contains(o.Global, j) {
		return true
	}
	left, right := o.reach()
	return j >= i-left && j <= i+right && (i-j)%o.dilation() == 0
}

func checkWindow(c *tensor.Checker, g gdims, opt WindowOptions) {
	if !c.Ok() {
		return
	}
	if g.tq != g.tk {
		c.Failf("sliding-window attention is self-attention: Tq = %d must equal Tk = %d", g.tq, g.tk)
	}
	if opt.Window < 0 || opt.Dilation < 0 {
		c.Failf("window %d and dilation %d must not be negative", opt.Window, opt.Dilation)
	}
	for _, p := range opt.Global {
		if p < 0 || p >= g.tk {
			c.Failf("global position %d is outside the sequence [0, %d)", p, g.tk)
		}
	}
}

// SlidingWindowForward computes sliding-window attention with global
// tokens into out and fills lse (LSEShape(B, H, T)) for the backward.
// Shapes are FlashForward's, with Tq = Tk.
func SlidingWindowForward(out, lse, q, k, v *tensor.Tensor, keyMask []bool, opt WindowOptions) error {
	c := tensor.Check("attention.SlidingWindowForward").Add("out", out).Add("lse", lse).Add("q", q).Add("k", k).Add("v", v)
	g := checkGrouped(c, q, k, v, keyMask)
	checkWindow(c, g, opt)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
		c.Shape("lse", lse, LSEShape(g.b, g.h, g.tq)...)
	}
	if err := c.Err(); err != nil {
		return err
	}
	p := newWindowPattern(g.tk, opt)
	j := tiledJobs.Get()
	*j = tiledJob{gdims: g, pat: p, scale: opt.scale(g.d), keyMask: keyMask,
		q: q.Data, k: k.Data, v: v.Data, out: out.Data, lse: lse.Data}
	j.run()
	*j = tiledJob{}
	tiledJobs.Put(j)
	windowPatterns.Put(p)
	return nil
}

// SlidingWindowBackward accumulates into dq, dk and dv the gradients given
// dout; the other arguments are the forward's and its results.
func SlidingWindowBackward(dq, dk, dv, dout, q, k, v, out, lse *tensor.Tensor, keyMask []bool, opt WindowOptions) error {
	c := tensor.Check("attention.SlidingWindowBackward").Add("q", q).Add("k", k).Add("v", v).Add("out", out).Add("lse", lse)
	g := checkGrouped(c, q, k, v, keyMask)
	checkWindow(c, g, opt)
	if c.Ok() {
		c.Shape("out", out, g.b, g.h, g.tq, g.d)
		c.Shape("lse", lse, LSEShape(g.b, g.h, g.tq)...)
		checkGrads(c, g, dq, dk, dv, dout)
	}
	if err := c.Err(); err != nil {
		return err
	}
	p := newWindowPattern(g.tk, opt)
	tiledBackward(g, p, opt.scale(g.d), keyMask, dq, dk, dv, dout, q, k, v, out, lse)
	windowPatterns.Put(p)
	return nil
}

// windowPattern is WindowOptions.Sees for the tiled engine.
type windowPattern struct {
	t, left, right, dil int
	causal              bool
	global              []bool // (T) whether each position is global
	globals             []int  // sorted global positions
}

var windowPatterns parallel.FreeList[windowPattern]

func newWindowPattern(t int, opt WindowOptions) *windowPattern {
	p := windowPatterns.Get()
	p.t, p.dil, p.causal = t, opt.dilation(), opt.Causal
	p.left, p.right = opt.reach()
	if cap(p.global) < t {
		p.global = make([]bool, t)
	}
	p.global = p.global[:t]
	clear(p.global)
	p.globals = p.globals[:0]
	for _, g := range opt.Global {
		if !p.global[g] {
			p.global[g] = true
			p.globals = append(p.globals, g)
		}
	}
	slices.Sort(p.globals)
	return p
}

func (p *windowPattern) spans(dst []span, h, i0, w int) []span {
	last := i0 + w // past the block's last query
	if slices.Contains(p.global[i0:last], true) {
		// A global query sees every key (every earlier one if causal).
		hi := p.t
		if p.causal {
			hi = last
		}
		return append(dst, span{0, hi, false})
	}
	lo, hi := max(0, i0-p.left), min(p.t, last+p.right)
	add := func(a, b int) {
		if n := len(dst); n > 0 && dst[n-1].hi == a {
			dst[n-1].hi = b
			return
		}
		dst = append(dst, span{a, b, false})
	}
	for _, g := range p.globals {
		if g >= lo {
			break
		}
		add(g, g+1)
	}
	add(lo, hi)
	for _, g := range p.globals {
		if g >= hi && (!p.causal || g < last) {
			add(g, g+1)
		}
	}
	return dst
}

func (p *windowPattern) hide(s []float32, h, i0, w, j0, kb, nr int) {
	negInf := float32(math.Inf(-1))
	for r := range kb {
		j := j0 + r
		row := s[r*nr : r*nr+w]
		for c := range row {
			i := i0 + c
			d := i - j
			if p.causal && d < 0 {
				row[c] = negInf
				continue
			}
			if p.global[j] || p.global[i] {
				continue
			}
			if d < -p.right || d > p.left || d%p.dil != 0 {
				row[c] = negInf
			}
		}
	}
}
