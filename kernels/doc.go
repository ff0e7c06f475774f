// Package kernels is the root of attnlab's numeric library: float32 tensors
// and every kernel a transformer needs, forward and backward, on the CPU.
//
// The library is split by concept, one package each:
//
//	tensor     the Tensor type (row-major float32 with an explicit shape) and shape errors
//	rng        a seeded, splittable, deterministic random number generator
//	parallel   a fixed worker pool whose work split never depends on GOMAXPROCS
//	vmath      vectorised element-wise math (exp, softmax rows, dot, axpy)
//	blas       packed, cache-blocked matrix multiplication with AVX-512/AVX2 micro-kernels
//	nn         layers: linear, embedding, positions, norms, activations, losses, dropout
//	attention  scaled-dot-product attention kernels
//	optim      optimisers (SGD, AdamW), gradient clipping and learning-rate schedules
//
// Conventions follow llm.c: each layer is a pair of functions, XForward and
// XBackward, over caller-owned buffers. The forward caches exactly what the
// backward needs, backward functions accumulate (+=) into parameter
// gradients, and a naive reference implementation stays beside every fast
// one as a fallback and as the test oracle. Kernels never allocate on the hot
// path: callers own every buffer and reuse it across steps, because on small
// machines the first touch of a fresh page costs more than the arithmetic.
//
// This tree imports only the standard library and golang.org/x/sys/cpu.
package kernels
