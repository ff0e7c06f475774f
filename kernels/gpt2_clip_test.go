package kernels_test

import "github.com/attnlab/attnlab/kernels/optim"

func optimClip(ps []optim.Param) { optim.ClipGradNorm(ps, 1) }
