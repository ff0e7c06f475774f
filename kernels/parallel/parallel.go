package parallel

import (
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

// Job is work cut into parts. Run(part) must write only outputs that belong
// to that part and must not depend on which goroutine runs it.
type Job interface {
	Run(part int)
}

// Func adapts a function to Job. Converting a func to Func and then to Job
// allocates if the func is a closure; hot paths use a struct type instead.
type Func func(part int)

// Run calls f(part).
func (f Func) Run(part int) { f(part) }

// Waking a parked goroutine on another thread costs tens of microseconds
// on a virtual machine whose idle CPU has halted, and a training step makes
// hundreds of Do calls, most of them a few microseconds apart. So a worker
// that has finished its parts keeps polling for the next job for a while
// (spin) before it parks (sleep_*.go), and Do's caller polls for the
// workers to finish before it blocks. Between trial steps, or once Idle
// says the process is about to wait for another one, the workers park and
// give the cores back.
var spin = 50 * time.Microsecond

func init() {
	// ATTNLAB_SPIN_US overrides the polling time (0 turns polling off),
	// for measuring its effect.
	if v, err := strconv.Atoi(os.Getenv("ATTNLAB_SPIN_US")); err == nil && v >= 0 {
		spin = time.Duration(v) * time.Microsecond
	}
}

const (
	awake  = 0
	parked = 1

	waiting = 1 << 30 // in pool.pending: Do's caller is blocked on done
)

type worker struct {
	job     atomic.Uint64 // generation of the last job Do gave this worker
	state   atomic.Int32  // awake or parked; a parked worker sleeps on it
	sleeper               // how it sleeps and is woken (sleep_*.go)
	_       [64]byte      // keep workers' hot fields on their own cache lines
}

// A crew is the set of workers one SetThreads started; retiring it sets
// retired and wakes them, and they exit. Do hands a job to exactly the
// workers it counts in pending, by raising their generation numbers, so
// no worker can take part in a job it was not counted for.
type crew struct {
	gen     uint64 // the last job's generation (written under busy)
	workers []*worker
	retired atomic.Bool
	idle    atomic.Bool   // Idle was called: park instead of polling
	spin    time.Duration // spin when the crew was started
}

type pool struct {
	busy    sync.Mutex // held while a job is being dispatched
	threads int
	crew    *crew // threads-1 helpers

	job   Job
	parts int64
	next  atomic.Int64

	// pending counts the helpers still running the current job, plus
	// waiting once Do's caller has given up polling and blocks on done.
	// One word, so that the helper whose decrement ends the job sees in
	// the same atomic step whether the caller is blocked; a separate flag
	// let a late helper of one job wake the caller of the next.
	pending atomic.Int32
	done    doneSignal // the last helper wakes a blocked caller with it
}

var (
	cfgMu sync.Mutex
	p     = &pool{done: newDoneSignal()}
)

// poolThreads is the pool's width (p.threads), readable without cfgMu
// while a thread goes to sleep (sleep_linux.go).
var poolThreads atomic.Int32

func init() {
	n := runtime.NumCPU()
	setThreads(n)
}

// Threads returns the number of goroutines that run a job's parts.
func Threads() int {
	cfgMu.Lock()
	defer cfgMu.Unlock()
	return p.threads
}

// SetThreads sets the number of worker goroutines (at least 1) and returns
// the previous value. The default is runtime.NumCPU(). Results do not depend
// on this setting; only speed does.
func SetThreads(n int) int {
	cfgMu.Lock()
	defer cfgMu.Unlock()
	return setThreads(n)
}

func setThreads(n int) int {
	if n < 1 {
		n = 1
	}
	p.busy.Lock()
	defer p.busy.Unlock()
	prev := p.threads
	if c := p.crew; c != nil {
		c.retired.Store(true)
		for _, w := range c.workers {
			w.rouse() // one not parked sees retired before it parks
		}
	}
	c := &crew{spin: spin}
	for i := 1; i < n; i++ {
		w := &worker{sleeper: newSleeper()}
		c.workers = append(c.workers, w)
		go p.work(c, w)
	}
	p.crew = c
	p.threads = n
	poolThreads.Store(int32(n))
	return prev
}

// Idle tells the pool that no job will come for a while (the process is
// about to wait for another one): workers polling for the next job park at
// once instead of taking a core the other process needs. The next Do wakes
// them as usual.
func Idle() {
	cfgMu.Lock()
	c := p.crew
	cfgMu.Unlock()
	if c != nil && len(c.workers) > 0 {
		c.idle.Store(true)
	}
}

// Wake tells the pool that jobs are about to come (the process has just
// been handed work by another one): parked workers wake and poll for
// them, so that their wake-up overlaps whatever the caller does before
// its first Do instead of delaying that Do's parts. A worker that no job
// reaches within the polling time parks again.
func Wake() {
	if !p.busy.TryLock() {
		return // a job is being dispatched: its workers are awake
	}
	defer p.busy.Unlock()
	c := p.crew
	if c == nil || c.spin <= 0 {
		return
	}
	c.idle.Store(false)
	for _, w := range c.workers {
		w.rouse()
	}
}

// rouse wakes w if it is parked. Do, Wake and retirement all set state to
// awake before they wake a worker, so a worker that wakes (or is about to
// sleep) sees it and does not sleep again.
func (w *worker) rouse() {
	if w.state.CompareAndSwap(parked, awake) {
		w.wake()
	}
}

// work is a helper's loop: wait for a job newer than seen, run its parts,
// repeat.
func (p *pool) work(c *crew, w *worker) {
	w.start()
	defer w.stop()
	var seen uint64
	for {
		g, ok := c.await(w, seen)
		if !ok {
			return
		}
		seen = g
		p.drain()
		if p.pending.Add(-1) == waiting {
			p.done.signal(&p.pending)
		}
	}
}

// await polls for a job other than seen for up to spin, then parks until
// Do (or Wake) wakes the worker, and polls again. It returns false when
// the worker's crew is retired.
func (c *crew) await(w *worker, seen uint64) (uint64, bool) {
	for {
		if c.spin > 0 {
			start := time.Now()
			for i := 1; ; i++ {
				if g := w.job.Load(); g != seen {
					return g, true
				}
				if i%64 == 0 {
					if c.retired.Load() {
						return 0, false
					}
					if c.idle.Load() || time.Since(start) > c.spin {
						break
					}
				}
			}
		}
		w.state.Store(parked)
		if g := w.job.Load(); g != seen {
			w.state.Store(awake)
			return g, true
		}
		if c.retired.Load() {
			return 0, false
		}
		// Do, Wake and retiring the crew set state to awake before they
		// wake us; a wake-up that finds us already gone is harmless, since
		// we check state again before sleeping.
		w.sleep(&c.idle)
	}
}

func (p *pool) drain() {
	for {
		i := p.next.Add(1) - 1
		if i >= p.parts {
			return
		}
		p.job.Run(int(i))
	}
}

// Do runs j.Run(part) for every part in [0, parts) and returns when all
// have finished. Parts run concurrently on up to Threads goroutines.
func Do(parts int, j Job) {
	if parts <= 0 {
		return
	}
	if parts == 1 || !p.busy.TryLock() {
		for i := range parts {
			j.Run(i)
		}
		return
	}
	defer p.busy.Unlock()
	c := p.crew
	helpers := min(len(c.workers), parts-1)
	if helpers == 0 {
		for i := range parts {
			j.Run(i)
		}
		return
	}
	c.idle.Store(false)
	p.job, p.parts = j, int64(parts)
	p.next.Store(0)
	p.pending.Store(int32(helpers))
	c.gen++
	for _, w := range c.workers[:helpers] {
		w.job.Store(c.gen)
		w.rouse()
	}
	p.drain()
	p.wait(c.spin)
	p.job = nil
}

// wait returns once every helper of the current job has finished.
func (p *pool) wait(spin time.Duration) {
	if spin > 0 {
		start := time.Now()
		for i := 1; p.pending.Load() != 0; i++ {
			if i%64 == 0 && time.Since(start) > spin {
				break
			}
		}
	}
	if p.pending.Load() == 0 || p.pending.Add(waiting) == waiting {
		return // every helper finished before it could see waiting
	}
	p.done.wait(&p.pending)
}
