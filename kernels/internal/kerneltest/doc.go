// Package kerneltest holds the helpers that every kernel test uses: tolerance
// comparisons that print the first few values and the largest difference,
// a central finite-difference gradient checker, and random inputs.
//
// Tolerances are stated at the call site, never hand-rolled in tests:
//
//	kerneltest.Close(t, "out", got, want, kerneltest.Tol{Abs: 1e-5, Rel: 1e-4})
package kerneltest
