package blas

import "runtime"

func setGOMAXPROCS(n int) int { return runtime.GOMAXPROCS(n) }
