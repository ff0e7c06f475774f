package parallel

import (
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

type countJob struct {
	hits []atomic.Int32
}

func (c *countJob) Run(part int) { c.hits[part].Add(1) }

// doCounted runs a job of parts parts and checks that each ran once.
func doCounted(t *testing.T, parts int) {
	t.Helper()
	j := &countJob{hits: make([]atomic.Int32, parts)}
	Do(parts, j)
	for k := range j.hits {
		if n := j.hits[k].Load(); n != 1 {
			t.Fatalf("part %d ran %d times", k, n)
		}
	}
}

func TestEveryPartOnce(t *testing.T) {
	for _, threads := range []int{1, 2, 3, 8} {
		prev := SetThreads(threads)
		for _, parts := range []int{0, 1, 2, 7, 100} {
			j := &countJob{hits: make([]atomic.Int32, parts)}
			Do(parts, j)
			for i := range j.hits {
				if n := j.hits[i].Load(); n != 1 {
					t.Fatalf("threads=%d parts=%d: part %d ran %d times", threads, parts, i, n)
				}
			}
		}
		SetThreads(prev)
	}
}

func TestConcurrentAndNestedCalls(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	var wg sync.WaitGroup
	for g := 0; g < 4; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 50 {
				outer := &countJob{hits: make([]atomic.Int32, 4)}
				Do(4, Func(func(part int) {
					inner := &countJob{hits: make([]atomic.Int32, 3)}
					Do(3, inner)
					for i := range inner.hits {
						if inner.hits[i].Load() != 1 {
							t.Error("nested part lost")
						}
					}
					outer.Run(part)
				}))
				for i := range outer.hits {
					if outer.hits[i].Load() != 1 {
						t.Error("outer part lost")
					}
				}
			}
		}()
	}
	wg.Wait()
}

func TestDoAllocatesNothing(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	j := &countJob{hits: make([]atomic.Int32, 16)}
	if a := testing.AllocsPerRun(100, func() { Do(16, j) }); a != 0 {
		t.Fatalf("Do allocated %v times per call", a)
	}
}

// Changing the thread count between jobs never loses or repeats a part.
func TestSetThreadsWhileWorkersSpin(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	for i := range 300 {
		SetThreads(2 + i%3)
		j := &countJob{hits: make([]atomic.Int32, 7)}
		Do(7, j)
		for k := range j.hits {
			if n := j.hits[k].Load(); n != 1 {
				t.Fatalf("round %d: part %d ran %d times", i, k, n)
			}
		}
	}
}

// Workers that have been idle are woken again.
func TestParkedWorkersWake(t *testing.T) {
	prev := SetThreads(2)
	defer SetThreads(prev)
	for range 5 {
		time.Sleep(time.Millisecond)
		j := &countJob{hits: make([]atomic.Int32, 8)}
		Do(8, j)
		for k := range j.hits {
			if j.hits[k].Load() != 1 {
				t.Fatal("a part was lost after the workers parked")
			}
		}
	}
}

// Every hand-off path gives each part exactly once: workers polling
// (spin), workers parked at once (spin 0), and workers told to park by
// Idle between jobs, with fewer parts than workers in between.
func TestPollingParkedAndIdle(t *testing.T) {
	prevSpin := spin
	defer func() { spin = prevSpin }()
	prev := SetThreads(3)
	defer SetThreads(prev)
	for _, s := range []time.Duration{0, time.Microsecond, 50 * time.Microsecond, time.Second} {
		spin = s
		SetThreads(3) // a crew that sees the new setting from the start
		for i := range 200 {
			parts := 1 + i%5
			if i%7 == 0 {
				Idle()
			}
			j := &countJob{hits: make([]atomic.Int32, parts)}
			Do(parts, j)
			for k := range j.hits {
				if n := j.hits[k].Load(); n != 1 {
					t.Fatalf("spin %v, round %d: part %d of %d ran %d times", s, i, k, parts, n)
				}
			}
		}
	}
}

// Many small jobs in a row, with the helper count changing between them:
// every part runs exactly once even when a helper finishes a job it saw
// while polling before Do has got round to waking it (the late wake-up
// must not start the job a second time).
func TestManySmallJobs(t *testing.T) {
	prev := SetThreads(3)
	defer SetThreads(prev)
	j := &countJob{hits: make([]atomic.Int32, 4)}
	for i := range 20000 {
		parts := 2 + i%3
		for k := range j.hits {
			j.hits[k].Store(0)
		}
		Do(parts, j)
		for k := range parts {
			if n := j.hits[k].Load(); n != 1 {
				t.Fatalf("job %d: part %d of %d ran %d times", i, k, parts, n)
			}
		}
	}
}

// Wake gets parked workers polling again before any job comes.
func TestWakePollsBeforeTheJob(t *testing.T) {
	prevSpin := spin
	spin = time.Second
	prev := SetThreads(2)
	defer func() {
		spin = prevSpin // before the pool is rebuilt, so its crew polls as usual
		SetThreads(prev)
	}()
	w := p.crew.workers[0]
	Do(2, &countJob{hits: make([]atomic.Int32, 2)})
	Idle()
	for deadline := time.Now().Add(5 * time.Second); w.state.Load() != parked; {
		if time.Now().After(deadline) {
			t.Fatal("the worker never parked after Idle")
		}
		time.Sleep(time.Millisecond)
	}
	Wake()
	time.Sleep(20 * time.Millisecond)
	if w.state.Load() != awake {
		t.Fatal("after Wake the worker parked again instead of polling")
	}
	doCounted(t, 8)
}
