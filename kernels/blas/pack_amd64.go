//go:build amd64 && !purego

package blas

// copyPanel32 is in pack_amd64.s.
//
//go:noescape
func copyPanel32(dst, src *float32, rows, stride int)
