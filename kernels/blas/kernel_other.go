//go:build !amd64 || purego

package blas

func asmKernels() []*microKernel { return nil }
