// Package optim holds attnlab's optimisers, gradient clipping and
// learning-rate schedules, written to match PyTorch 1.13 step for step.
//
// # Parameters
//
// An optimiser updates a fixed list of Param values, each a pair of tensors
// of the same shape (the parameter and its gradient) plus a name for error
// messages and a NoDecay flag that exempts it from weight decay (the usual
// choice for biases and normalisation gains, as in nanoGPT's
// configure_optimizers). The optimiser keeps the tensors it was given and
// reads Value.Data and Grad.Data in place, so a model hands over its own
// buffers once and the backward pass keeps filling the same gradients.
//
// Optimiser state (momentum buffers, Adam moments) is allocated once by the
// constructor; Step, ZeroGrad and ClipGradNorm allocate nothing, so a
// warmed-up training step stays allocation-free.
//
// # Learning rates
//
// Step takes the learning rate as an argument, so a Schedule can drive it:
//
//	opt, err := optim.NewAdamW(params, optim.DefaultAdamW())
//	sched := optim.WarmupCosine{Base: 1e-3, Min: 1e-4, Warmup: 100, Total: 5000}
//	for step := 0; step < 5000; step++ {
//		optim.ZeroGrad(params)
//		... forward, backward ...
//		optim.ClipGradNorm(params, 1)
//		if err := opt.Step(sched.LR(step)); err != nil { ... }
//	}
//
// # Numerics
//
// Hyper-parameters are float64, like PyTorch's Python floats: coefficients
// such as 1-β₁, 1-lr·λ and the bias corrections are computed in float64 and
// rounded to float32 once per step, exactly where PyTorch rounds them, and
// the per-element arithmetic is float32 in PyTorch's order of operations.
// Every product is converted to float32 before it is added, which forbids
// the compiler from fusing it into an FMA (the Go spec allows fusion only
// without the explicit conversion), so results are bit-identical on every
// platform. PyTorch's vectorised CPU kernels do fuse some of these
// multiply-adds, so the two agree to within a float32 rounding or two per
// step, not bit for bit; see golden_test.go.
//
// The formulas each type implements are documented on the type, with the
// PyTorch function it mirrors.
package optim
