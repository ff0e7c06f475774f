package sdk

import (
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"unsafe"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// Shared-memory transport.
//
// Every process of a trial (the harness and one process per component)
// allocates the tensors it hands to others in segments: files it creates
// in the trial's shared-memory directory (on tmpfs, /dev/shm) and maps
// with MAP_SHARED. A tensor crosses a process boundary as a descriptor
// (segment file name, byte offset, shape, dtype); the receiver maps the
// segment once, read-only, and wraps the bytes as a tensor without a copy.
// Writing to a tensor received from another process faults, which turns a
// contract violation into a crashed plugin with a recorded reason instead
// of silent corruption.
//
// Segments live for the whole trial and are never unmapped while it runs,
// because tensors returned earlier may still point into them; components
// allocate their buffers once (at Init) and reuse them every step, so a
// trial creates a handful of segments. The harness removes the directory
// at the end of the trial, and every process removes its own files when
// it exits; the directory of a harness killed mid-trial is removed by the
// next launch (harness/launch.go, trialLockName).

const (
	segmentMin  = 64 << 20 // bytes; larger tensors get a segment of their own
	tensorAlign = 64
)

type segment struct {
	name string
	data []byte
	used int
	own  bool
}

// memory is one process's view of the trial's shared memory.
type memory struct {
	mu     sync.Mutex
	dir    string
	prefix string              // names of segments this process creates
	own    []*segment          // segments created here, in creation order
	mapped map[string]*segment // every mapped segment by name (own and foreign)
	slots  map[string]*tensor.Tensor
	islots map[string][]byte
}

var (
	procMemMu sync.Mutex
	procMem   *memory
)

// openMemory sets up this process's shared memory in dir; a process takes
// part in one trial at a time.
func openMemory(dir, role string) (*memory, error) {
	procMemMu.Lock()
	defer procMemMu.Unlock()
	if procMem != nil && procMem.dir == dir {
		return procMem, nil
	}
	if procMem != nil {
		procMem.close()
	}
	st, err := os.Stat(dir)
	if err != nil || !st.IsDir() {
		return nil, fmt.Errorf("shared-memory directory %q is not usable: %v", dir, err)
	}
	procMem = &memory{dir: dir, prefix: fmt.Sprintf("%s-%d", role, os.Getpid()),
		mapped: map[string]*segment{}, slots: map[string]*tensor.Tensor{}, islots: map[string][]byte{}}
	return procMem, nil
}

// currentMemory returns the process's trial memory, or nil outside a trial.
func currentMemory() *memory {
	procMemMu.Lock()
	defer procMemMu.Unlock()
	return procMem
}

// alloc returns n zeroed bytes in one of this process's segments.
func (m *memory) alloc(n int) (*segment, int, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	n = (n + tensorAlign - 1) &^ (tensorAlign - 1)
	if k := len(m.own); k > 0 {
		s := m.own[k-1]
		if s.used+n <= len(s.data) {
			off := s.used
			s.used += n
			return s, off, nil
		}
	}
	size := max(segmentMin, n)
	name := fmt.Sprintf("%s-%d", m.prefix, len(m.own))
	path := filepath.Join(m.dir, name)
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o600)
	if err != nil {
		return nil, 0, fmt.Errorf("creating shared-memory segment: %w", err)
	}
	defer f.Close()
	if err := f.Truncate(int64(size)); err != nil {
		os.Remove(path)
		return nil, 0, fmt.Errorf("sizing shared-memory segment %s to %d bytes: %w", path, size, err)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, size, syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_SHARED)
	if err != nil {
		os.Remove(path)
		return nil, 0, fmt.Errorf("mapping shared-memory segment %s: %w", path, err)
	}
	s := &segment{name: name, data: data, used: n, own: true}
	m.own = append(m.own, s)
	m.mapped[name] = s
	return s, 0, nil
}

// lookup maps a segment created by another process (read-only), once.
func (m *memory) lookup(name string) (*segment, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if s, ok := m.mapped[name]; ok {
		return s, nil
	}
	if name == "" || filepath.Base(name) != name {
		return nil, fmt.Errorf("invalid shared-memory segment name %q", name)
	}
	f, err := os.Open(filepath.Join(m.dir, name))
	if err != nil {
		return nil, fmt.Errorf("opening shared-memory segment: %w", err)
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if st.Size() == 0 {
		return nil, fmt.Errorf("shared-memory segment %s is empty", name)
	}
	data, err := syscall.Mmap(int(f.Fd()), 0, int(st.Size()), syscall.PROT_READ, syscall.MAP_SHARED)
	if err != nil {
		return nil, fmt.Errorf("mapping shared-memory segment %s: %w", name, err)
	}
	s := &segment{name: name, data: data, used: len(data)}
	m.mapped[name] = s
	return s, nil
}

// find returns the mapped segment holding the n bytes at p, if any.
func (m *memory) find(p unsafe.Pointer, n int) (*segment, int, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	addr := uintptr(p)
	for _, s := range m.mapped {
		base := uintptr(unsafe.Pointer(unsafe.SliceData(s.data)))
		if addr >= base && addr+uintptr(n) <= base+uintptr(len(s.data)) {
			return s, int(addr - base), true
		}
	}
	return nil, 0, false
}

// close unmaps every segment and removes this process's files.
func (m *memory) close() {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, s := range m.mapped {
		syscall.Munmap(s.data)
		if s.own {
			os.Remove(filepath.Join(m.dir, s.name))
		}
	}
	m.mapped = map[string]*segment{}
	m.own = nil
	m.slots = map[string]*tensor.Tensor{}
	m.islots = map[string][]byte{}
	os.Remove(m.dir) // succeeds only once every process has left
}

// NewTensor returns a zeroed float32 tensor. Inside a trial it lives in
// shared memory, so returning it to another process costs no copy;
// outside a trial it is an ordinary tensor. Components allocate the
// buffers they return with NewTensor, once, and reuse them.
func NewTensor(shape ...int) *tensor.Tensor {
	m := currentMemory()
	n := tensor.Numel(shape)
	if m == nil || n <= 0 {
		return tensor.New(shape...)
	}
	s, off, err := m.alloc(4 * n)
	if err != nil {
		// Shared memory is an optimisation: fall back to the heap, and
		// the transport copies on the way out.
		return tensor.New(shape...)
	}
	data := unsafe.Slice((*float32)(unsafe.Pointer(&s.data[off])), n)
	return &tensor.Tensor{Shape: append([]int(nil), shape...), Data: data}
}

// NewIntTensor is NewTensor for integer tensors.
func NewIntTensor(shape ...int) *Ints {
	m := currentMemory()
	n := tensor.Numel(shape)
	if m == nil || n <= 0 {
		return NewInts(shape...)
	}
	s, off, err := m.alloc(4 * n)
	if err != nil {
		return NewInts(shape...)
	}
	data := unsafe.Slice((*int32)(unsafe.Pointer(&s.data[off])), n)
	return &Ints{Shape: append([]int(nil), shape...), Data: data}
}
