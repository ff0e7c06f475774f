package parallel

import (
	"runtime"
	"sync"
	"sync/atomic"
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

type pool struct {
	busy    sync.Mutex // held while a job is being dispatched
	threads int
	wake    []chan struct{} // one per helper worker (threads-1 of them)
	job     Job
	parts   int64
	next    atomic.Int64
	wg      sync.WaitGroup
}

var (
	cfgMu sync.Mutex
	p     = &pool{}
)

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
	for _, c := range p.wake {
		close(c)
	}
	p.wake = nil
	for i := 1; i < n; i++ {
		c := make(chan struct{})
		p.wake = append(p.wake, c)
		go p.worker(c)
	}
	p.threads = n
	return prev
}

func (p *pool) worker(wake chan struct{}) {
	for range wake {
		p.drain()
		p.wg.Done()
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
	helpers := min(len(p.wake), parts-1)
	if helpers == 0 {
		for i := range parts {
			j.Run(i)
		}
		return
	}
	p.job, p.parts = j, int64(parts)
	p.next.Store(0)
	p.wg.Add(helpers)
	for _, c := range p.wake[:helpers] {
		c <- struct{}{}
	}
	p.drain()
	p.wg.Wait()
	p.job = nil
}
