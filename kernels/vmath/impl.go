package vmath

// A path is one implementation of the vectorised kernels (exp, the fused
// exp-subtract-sum, GELU and the column operations). Every path computes the
// same function; see doc.go for where their results may differ.
type path uint8

const (
	pathGo     path = iota // pure Go: exp1 per element, plain column loops
	pathAVX2               // AVX2+FMA assembly, 8 lanes (*_avx2_amd64.s)
	pathAVX512             // AVX-512 assembly, 16 lanes, AVX2 for a last 8 (the other *_amd64.s)
)

func (p path) String() string {
	switch p {
	case pathAVX2:
		return "avx2"
	case pathAVX512:
		return "avx512"
	}
	return "go"
}

// paths lists the paths this CPU and build can run, fastest first; the Go
// path is always last.
var paths = append(asmPaths(), pathGo)

// impl is the path in use: the fastest, unless a test selects another with
// usePath.
var impl = paths[0]

// usePath selects a path by name ("avx512", "avx2" or "go") and returns the
// previous one's name; tests use it to run every path. It is not safe to
// call while a kernel is running.
func usePath(name string) (prev string, ok bool) {
	prev = impl.String()
	for _, p := range paths {
		if p.String() == name {
			impl = p
			return prev, true
		}
	}
	return prev, false
}

// vectorCols reports whether the column operations on w columns go through
// assembly: on either assembly path w must be a multiple of 8 (the AVX-512
// path runs 16-column strips and, when w%16 == 8, one 8-column AVX2 strip).
func vectorCols(w int) bool {
	return impl != pathGo && w%8 == 0
}
