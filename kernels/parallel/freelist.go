package parallel

import "sync"

// FreeList keeps released objects (job structs, workspaces) for reuse. It
// never drops them, unlike sync.Pool, whose contents the GC may discard,
// so a kernel that takes its job state from a FreeList allocates nothing
// once warmed up. The zero value is ready to use.
type FreeList[T any] struct {
	mu   sync.Mutex
	free []*T
}

// Get returns a released object, or a new zero one.
func (f *FreeList[T]) Get() *T {
	f.mu.Lock()
	defer f.mu.Unlock()
	if n := len(f.free); n > 0 {
		x := f.free[n-1]
		f.free = f.free[:n-1]
		return x
	}
	return new(T)
}

// Put releases x for reuse.
func (f *FreeList[T]) Put(x *T) {
	f.mu.Lock()
	f.free = append(f.free, x)
	f.mu.Unlock()
}
