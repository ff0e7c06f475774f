// Package sdk is what an attnlab plugin author imports: the component
// interfaces (Attention, Architecture, Objective), Serve for a plugin's
// main, and the clients the harness and architectures use to call
// components in other processes.
//
// A component is plain Go: it works on *tensor.Tensor values and returns
// errors. Whether it runs in the harness's process (tests, the in-process
// baseline) or in a plugin process of its own is invisible to it: Serve
// wraps it in the versioned gRPC protocol of plugins/proto, and tensors
// cross the process boundary through shared memory with only their
// descriptors in gRPC messages (see transport.go), so a plugin author never
// sees either. After Init, calls go over a plugin's fast path, a Unix
// socket carrying the same messages one frame each way (fastpath.go), with
// gRPC kept for the handshake, Describe, Init and logs.
//
// A trial is one fresh set of components: the harness calls Init on each,
// then runs the training loop
//
//	batch := objective.Batch(Train, step)
//	out   := architecture.Forward(batch, true)      // calls attention per layer
//	loss, dout, metrics := objective.Loss(out, batch)
//	architecture.Backward(dout)                       // calls attention backward
//	norm² = architecture.GradNormSq() + attention.GradNormSq()
//	architecture.Step(args); attention.Step(args)     // AdamW with clipping scale
//
// Tensors returned by a component stay valid, unchanged, until that
// component's next call of the same method (for attention: the same method
// and layer), and tensors passed to a component stay unchanged until the
// caller's matching backward: this is what lets both sides read each
// other's buffers in place, with no copies, across processes.
package sdk
