// Package attntest is a conformance suite for attention kernels, in the
// style of gonum's testblas: every variant (full, flash, sliding-window,
// block-sparse, low-rank, kernelised) wraps its forward and backward
// functions in an Impl and runs
//
//	attntest.Run(t, impl)   // in a test
//	attntest.Bench(b, impl) // in a benchmark
//
// Run checks, over a table of shapes (one query block and many, Tq ≠ Tk,
// grouped key/value heads, causal and padding masks):
//
//   - shapes and bad input: wrong ranks, mismatched dimensions, a key mask
//     of the wrong length, heads not divisible by key/value heads, and
//     options the variant does not support all return errors, never panic;
//   - causal leakage: changing the tokens after position i never changes
//     output i (bit for bit);
//   - key masks: masked keys never influence any output (bit for bit) and
//     get zero gradients; a query that sees no key gets a zero output;
//   - gradients: the backward against central finite differences
//     (kerneltest.GradCheck) of L = <out, w>;
//   - accumulation: Backward adds into dq, dk and dv;
//   - determinism: bit-identical results from run to run and with 1 and 2
//     threads (parallel.SetThreads);
//   - exactness: where the variant claims it (Caps.Exact), equality with
//     softmax attention computed in float64 by Reference, restricted to
//     the variant's Pattern if it has one;
//   - allocations: none once warmed up (kerneltest.NoAllocs).
//
// The reference is computed here, in float64, so the suite depends on no
// kernel it tests.
package attntest
