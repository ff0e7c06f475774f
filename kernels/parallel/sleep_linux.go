package parallel

import (
	"runtime"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// On Linux a worker has an OS thread of its own and sleeps on a futex on
// its state word, so Do's wake-up goes straight to the thread that will
// run the parts. Parked on a channel instead, the worker's goroutine is
// readied on Do's own processor and another thread must be woken to
// steal it: two wake-ups, and the second one often lands on the CPU Do is
// running on.
//
// That last point is the steering below. A Linux scheduler that packs
// work onto busy CPUs (as virtual machines' guests do, to leave idle
// vCPUs halted) places a woken thread on the waker's CPU, where it waits
// until Do's caller blocks or a scheduler tick moves it: up to 4 ms, with
// the other CPU idle. So before waking a parked worker, Do rules its own
// CPU out of the worker's affinity; the kernel must then wake an idle CPU
// for it. The affinity changes only when Do's caller has moved to another
// CPU since the last wake-up, and stays within the CPUs the process was
// allowed when the worker started (taskset and cgroup limits hold).
//
// On the reference model's two-thread step in plugin processes, a parked
// worker's wake-up took 282 µs on average in the attention process and
// 50 µs in the architecture's with channel wake-ups; 93 and 29 µs with
// futex wake-ups steered off the caller's CPU.

type sleeper struct {
	tid     int32        // the worker's thread id, set in start
	allowed unix.CPUSet  // CPUs the worker may run on, from start
	avoid   atomic.Int32 // the CPU currently ruled out (-1: none)
}

func newSleeper() sleeper { return sleeper{} }

// start runs on the worker's goroutine before its first job.
func (w *worker) start() {
	// The goroutine keeps this thread until stop, which undoes the
	// affinity wake may set before other goroutines get the thread.
	runtime.LockOSThread()
	w.avoid.Store(-1)
	if unix.SchedGetaffinity(0, &w.allowed) != nil {
		w.allowed.Zero() // unknown: never steer
	}
	// Published last: wake reads the fields above only once tid is set.
	atomic.StoreInt32(&w.tid, int32(unix.Gettid()))
}

// stop runs on the worker's goroutine when its crew is retired.
func (w *worker) stop() {
	if w.avoid.Load() >= 0 {
		unix.SchedSetaffinity(0, &w.allowed)
	}
	runtime.UnlockOSThread()
}

// sleep returns once w.state is no longer parked (or spuriously).
func (w *worker) sleep(idle *atomic.Bool) {
	for i := 0; w.state.Load() == parked; i++ {
		ns := int64(rawSleepNS)
		if idle.Load() {
			ns = rawIdleSleepNS
		}
		futexSleep(&w.state, parked, i, ns)
	}
}

// wake wakes w, whose state the caller has just set to awake.
func (w *worker) wake() {
	// Steering needs a second CPU to send the worker to.
	if tid := atomic.LoadInt32(&w.tid); tid != 0 && w.allowed.Count() > 1 {
		if cpu, ok := currentCPU(); ok && int32(cpu) != w.avoid.Load() && w.allowed.IsSet(cpu) {
			set := w.allowed
			set.Clear(cpu)
			if unix.SchedSetaffinity(int(tid), &set) == nil {
				w.avoid.Store(int32(cpu))
			}
		}
	}
	futexWake(&w.state)
}

// doneSignal: Do's caller sleeps on the pending word itself.
type doneSignal struct{}

func newDoneSignal() doneSignal { return doneSignal{} }

// wait returns once *pending is waiting alone (every helper finished).
func (doneSignal) wait(pending *atomic.Int32) {
	for i := 0; ; i++ {
		v := pending.Load()
		if v == waiting {
			return
		}
		futexSleep(pending, v, i, rawSleepNS)
	}
}

func (doneSignal) signal(pending *atomic.Int32) { futexWake(pending) }

func currentCPU() (int, bool) {
	var cpu uint32
	if _, _, e := unix.RawSyscall(unix.SYS_GETCPU, uintptr(unsafe.Pointer(&cpu)), 0, 0); e != 0 {
		return 0, false
	}
	return int(cpu), true
}

// futex(2) operations (linux/futex.h): FUTEX_WAIT and FUTEX_WAKE with
// FUTEX_PRIVATE_FLAG.
const (
	futexWaitPrivate = 0 | 128
	futexWakePrivate = 1 | 128
)

// futexWait sleeps while *addr == val (a private futex: one process),
// for at most ns nanoseconds when ns > 0. It may return spuriously;
// callers recheck their condition.
func futexWait(addr *atomic.Int32, val int32, ns int64) {
	if ns <= 0 {
		unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitPrivate, uintptr(uint32(val)), 0, 0, 0)
		return
	}
	ts := unix.NsecToTimespec(ns)
	unix.Syscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitPrivate, uintptr(uint32(val)), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// Sleeping outside the runtime's system-call bookkeeping.
//
// An ordinary futexWait enters the kernel through the runtime's syscall
// entry, so the runtime counts the sleeper's P as in a system call, and
// its monitor thread (sysmon) takes such a P back after 20µs when no
// other P is idle. Every time it takes one, the monitor resets itself to
// polling every 20µs for the next millisecond or more, and wakes another
// thread to look for work. A worker parks, and Do's caller waits, while
// the process's other thread computes, that is with no P idle: in the
// reference model's plugin processes at two threads the monitors woke
// thousands of times a second, each wake-up a context switch on a CPU
// that a kernel was using.
//
// So the first sleeps of a wait are raw futex waits of at most
// rawSleepNS each: to the runtime the sleeper is a goroutine still
// running, which the monitor leaves alone. The price is the P it keeps,
// hence three limits. Only a pool no wider than GOMAXPROCS sleeps that
// way, so that none of its threads ever waits for a P that a sleeper
// keeps (a wider pool's woken helper would wait until the monitor
// preempted the sleeper). At most GOMAXPROCS-1 threads sleep that way at
// once, so that other goroutines have a P whenever Do's caller blocks; a
// sleeper finding no P to spare sleeps the ordinary way, as briefly, and
// tries again. And each raw sleep is short and futexWaitRaw a real call,
// so that a stop-the-world, which waits for every running goroutine to
// reach a safe point (here, between two sleeps), waits at most
// rawSleepNS. A worker of an idle process (Idle was called: a plugin
// waiting for another process, which Wake will announce) sleeps
// rawIdleSleepNS at a time instead, so that idle processes do not wake
// the CPUs a busy one is using a thousand times a second: a
// stop-the-world there delays no computation, only (rarely) the handling
// of the next request, by at most rawIdleSleepNS. After rawSleeps sleeps,
// a thread idle that long sleeps the ordinary way.
//
// BenchmarkTrialStep's reference model in plugin processes at two
// threads, raw sleeps of 1 ms against ordinary sleeps: 0.926 and 0.905
// times the step (medians of 20 alternating rounds of 5 steps, two runs);
// idle workers' sleeps of 8 ms against 1: 0.927, 0.946 and 0.955. (Parking
// an idle process's workers on a channel instead, which frees their P
// for the runtime, was slower: 1.015 to 1.05, from the locked threads'
// wake-up.)
const (
	rawSleepNS     = 1_000_000
	rawIdleSleepNS = 8_000_000
	rawSleeps      = 100
)

// rawSleepers counts the threads in a raw futex wait.
var rawSleepers atomic.Int32

// futexSleep is one sleep of a wait while *addr == val; i counts the
// sleeps this wait has taken so far.
func futexSleep(addr *atomic.Int32, val int32, i int, ns int64) {
	if i >= rawSleeps || int(poolThreads.Load()) > runtime.GOMAXPROCS(0) {
		futexWait(addr, val, 0)
		return
	}
	if n := rawSleepers.Add(1); int(n) < runtime.GOMAXPROCS(0) {
		futexWaitRaw(addr, val, ns)
	} else {
		// Every spare P is kept by a raw sleeper already (Do's caller,
		// say, about to be woken by this worker): sleep the ordinary way,
		// as briefly, and try again.
		futexWait(addr, val, ns)
	}
	rawSleepers.Add(-1)
}

// futexWaitRaw is futexWait for at most ns nanoseconds, without the
// runtime's system-call entry and exit. It is never inlined, so that its
// caller's loop passes a preemption check between two sleeps.
//
//go:noinline
func futexWaitRaw(addr *atomic.Int32, val int32, ns int64) {
	ts := unix.NsecToTimespec(ns)
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWaitPrivate, uintptr(uint32(val)), uintptr(unsafe.Pointer(&ts)), 0, 0)
}

// futexWake wakes every thread sleeping on addr.
func futexWake(addr *atomic.Int32) {
	unix.RawSyscall6(unix.SYS_FUTEX, uintptr(unsafe.Pointer(addr)), futexWakePrivate, 1<<30, 0, 0, 0)
}
