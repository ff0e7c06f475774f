package parallel

import (
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// parkingWorker starts a two-thread pool whose worker parks as soon as
// it has run its parts, so that every Do wakes it, and returns the
// process's CPUs and the worker; the test's cleanup restores the pool.
func parkingWorker(t *testing.T) (unix.CPUSet, *worker) {
	var allowed unix.CPUSet
	if err := unix.SchedGetaffinity(0, &allowed); err != nil || allowed.Count() < 2 {
		t.Skip("needs at least two CPUs")
	}
	prevSpin := spin
	spin = 0
	prev := SetThreads(2)
	t.Cleanup(func() {
		spin = prevSpin
		SetThreads(prev)
	})
	return allowed, p.crew.workers[0]
}

// doParked waits until w has parked, so that Do must wake it, then runs a
// job of four parts and checks that each ran once.
func doParked(t *testing.T, w *worker) {
	for deadline := time.Now().Add(10 * time.Second); w.state.Load() != parked; {
		if time.Now().After(deadline) {
			t.Fatal("the worker never parked")
		}
		time.Sleep(50 * time.Microsecond)
	}
	j := &countJob{hits: make([]atomic.Int32, 4)}
	Do(4, j)
	for k := range j.hits {
		if n := j.hits[k].Load(); n != 1 {
			t.Fatalf("part %d ran %d times", k, n)
		}
	}
}

// A parked worker woken by Do may not run on the CPU Do ran on at the
// wake-up, and may run on every other CPU the process is allowed.
func TestWakeSteersOffCallersCPU(t *testing.T) {
	allowed, w := parkingWorker(t)
	for range 20 {
		doParked(t, w)
	}
	avoid := int(w.avoid.Load())
	if avoid < 0 || !allowed.IsSet(avoid) {
		t.Fatalf("after 20 wake-ups the worker avoids CPU %d; want one of the process's CPUs", avoid)
	}
	var got unix.CPUSet
	if err := unix.SchedGetaffinity(int(w.tid), &got); err != nil {
		t.Fatal(err)
	}
	want := allowed
	want.Clear(avoid)
	if got != want {
		t.Errorf("worker affinity has %d CPUs (CPU %d set: %v); want the process's %d less CPU %d", got.Count(), avoid, got.IsSet(avoid), allowed.Count(), avoid)
	}
}

// A retired worker gives its thread back with the process's affinity.
func TestRetiredWorkerRestoresAffinity(t *testing.T) {
	allowed, w := parkingWorker(t)
	doParked(t, w)
	if w.avoid.Load() < 0 {
		t.Fatal("no wake-up was steered")
	}
	tid := int(w.tid)
	SetThreads(1)
	deadline := time.Now().Add(10 * time.Second)
	for {
		var got unix.CPUSet
		err := unix.SchedGetaffinity(tid, &got)
		if err != nil || got == allowed {
			return // the thread is gone, or back to the process's CPUs
		}
		if time.Now().After(deadline) {
			t.Fatalf("thread %d of a retired worker keeps %d of the process's %d CPUs", tid, got.Count(), allowed.Count())
		}
		time.Sleep(time.Millisecond)
	}
}
