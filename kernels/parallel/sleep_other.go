//go:build !linux

package parallel

import "sync/atomic"

// Elsewhere a parked worker sleeps on a channel holding at most one
// wake-up; a stray one only makes it check its state again.

type sleeper struct {
	ch chan struct{}
}

func newSleeper() sleeper { return sleeper{ch: make(chan struct{}, 1)} }

func (w *worker) start() {}

func (w *worker) stop() {}

func (w *worker) sleep(*atomic.Bool) {
	for w.state.Load() == parked {
		<-w.ch
	}
}

func (w *worker) wake() {
	select {
	case w.ch <- struct{}{}:
	default: // a wake-up is already pending
	}
}

// doneSignal carries the last helper's wake-up to Do's blocked caller.
type doneSignal chan struct{}

func newDoneSignal() doneSignal { return make(doneSignal, 1) }

// wait blocks until the helper that ended the job signals; exactly one
// does (the one whose decrement left waiting alone in pending).
func (d doneSignal) wait(*atomic.Int32) { <-d }

func (d doneSignal) signal(*atomic.Int32) { d <- struct{}{} }
