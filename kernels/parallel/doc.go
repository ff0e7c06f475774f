// Package parallel runs kernel work on a small, fixed pool of worker
// goroutines.
//
// Determinism rule: callers cut their work into parts whose number and
// boundaries depend only on the problem (never on Threads or GOMAXPROCS),
// and each part writes disjoint outputs with a fixed order of floating-point
// operations. Workers then take parts in any order, so the results are
// bit-identical for every thread count; only the speed changes.
//
// The pool is started once and reused: dispatching a job allocates nothing,
// which keeps a warmed-up training step allocation-free. A Do call made while
// the pool is busy (from another goroutine, or from inside a job) runs its
// parts serially on the calling goroutine, which is correct by the rule above.
//
// Workers poll for the next job for 50 µs before they park, and Do's
// caller polls for them to finish before it blocks: a training step makes
// hundreds of Do calls microseconds apart, and waking a parked thread on a
// virtual machine whose idle CPU has halted costs tens of microseconds each
// time (the reference model's two-thread step: 56 ms parking at once, 51 ms
// polling). Idle parks them at once, for a process about to wait for
// another; ATTNLAB_SPIN_US sets the polling time (0: park at once).
//
// On Linux each worker has an OS thread of its own and parks on a futex,
// so a wake-up reaches the thread that runs the parts directly; Do also
// rules its own CPU out of a parked worker's affinity before waking it,
// because a scheduler that packs threads onto busy CPUs (a virtual
// machine guest's, typically) would otherwise queue the worker behind its
// waker for up to a scheduler tick. sleep_linux.go has the details and
// the measured wake-up times; other systems park workers on channels.
package parallel
