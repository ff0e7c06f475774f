package parallel

import (
	"runtime"
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
	doCounted(t, 4)
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

// A parked worker of a pool no wider than GOMAXPROCS sleeps outside the
// runtime's system-call bookkeeping, keeping its P; the runtime must stay
// fully usable meanwhile: other goroutines run, a garbage collection
// (which stops the world) completes, and the next Do wakes the worker. A
// pool wider than GOMAXPROCS never sleeps that way.
func TestRawSleep(t *testing.T) {
	procs := runtime.GOMAXPROCS(0)
	if procs < 2 {
		t.Skip("needs GOMAXPROCS >= 2")
	}
	prevSpin := spin
	spin = 0
	prev := SetThreads(procs)
	defer func() {
		spin = prevSpin
		SetThreads(prev)
	}()
	// A parked worker sleeps raw for its first rawSleeps sleeps (100 ms);
	// a job starts that over, in case this goroutine was held up that long.
	rawSleeping := func() bool {
		for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
			Do(procs, &countJob{hits: make([]atomic.Int32, procs)})
			for range 50 {
				if rawSleepers.Load() > 0 {
					return true
				}
				time.Sleep(time.Millisecond)
			}
		}
		return false
	}
	if !rawSleeping() {
		t.Fatal("no parked worker is in a raw sleep")
	}
	if n := rawSleepers.Load(); int(n) >= procs {
		t.Fatalf("%d threads in raw sleeps, GOMAXPROCS %d", n, procs)
	}
	for range 3 {
		done := make(chan struct{})
		go func() {
			runtime.GC()
			ping := make(chan int)
			go func() { ping <- 1 }()
			<-ping
			close(done)
		}()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			t.Fatal("a collection and a goroutine hand-off did not finish beside a raw-sleeping worker")
		}
	}
	doCounted(t, 4)

	SetThreads(procs + 1)
	for range 50 {
		Do(procs+1, &countJob{hits: make([]atomic.Int32, procs+1)})
		time.Sleep(time.Millisecond)
		if n := rawSleepers.Load(); n != 0 {
			t.Fatalf("a pool of %d threads with GOMAXPROCS %d has %d raw sleepers", procs+1, procs, n)
		}
	}
}
