package sdk

import (
	"fmt"
	"unsafe"

	"github.com/attnlab/attnlab/kernels/tensor"
	pb "github.com/attnlab/attnlab/plugins/proto/v1"
)

// export describes the n bytes at p (a tensor's data) for another process:
// in place when they already lie in a mapped segment, otherwise copied
// into the buffer kept for slot, which is allocated on first use and
// reused, so that a tensor sent from the same call site every step costs
// one copy and no allocation. A slot's contents stay unchanged until the
// next export to the same slot, which is exactly the validity the
// component contracts promise.
func (m *memory) export(p unsafe.Pointer, n int, shape []int, dtype pb.Tensor_DType, slot string) (*pb.Tensor, error) {
	d := &pb.Tensor{Shape: shape64(shape), Dtype: dtype}
	if n == 0 {
		return d, nil
	}
	if s, off, ok := m.find(p, n); ok {
		d.Segment, d.Offset = s.name, int64(off)
		return d, nil
	}
	m.mu.Lock()
	buf := m.islots[slot]
	m.mu.Unlock()
	if len(buf) < n {
		s, off, err := m.alloc(n)
		if err != nil {
			return nil, err
		}
		buf = s.data[off : off+n]
		m.mu.Lock()
		m.islots[slot] = buf
		m.mu.Unlock()
	}
	copy(buf[:n], unsafe.Slice((*byte)(p), n))
	s, off, _ := m.find(unsafe.Pointer(&buf[0]), n)
	d.Segment, d.Offset = s.name, int64(off)
	return d, nil
}

func shape64(s []int) []int64 {
	out := make([]int64, len(s))
	for i, v := range s {
		out[i] = int64(v)
	}
	return out
}

func (m *memory) exportTensor(t *tensor.Tensor, slot string) (*pb.Tensor, error) {
	if t == nil {
		return nil, nil
	}
	if tensor.Numel(t.Shape) != len(t.Data) {
		return nil, fmt.Errorf("tensor %s has %d values but shape %s needs %d", slot, len(t.Data), tensor.FormatShape(t.Shape), tensor.Numel(t.Shape))
	}
	return m.export(unsafe.Pointer(unsafe.SliceData(t.Data)), 4*len(t.Data), t.Shape, pb.Tensor_FLOAT32, slot)
}

func (m *memory) exportInts(x *Ints, slot string) (*pb.Tensor, error) {
	if x == nil {
		return nil, nil
	}
	if tensor.Numel(x.Shape) != len(x.Data) {
		return nil, fmt.Errorf("integer tensor %s has %d values but shape %s needs %d", slot, len(x.Data), tensor.FormatShape(x.Shape), tensor.Numel(x.Shape))
	}
	return m.export(unsafe.Pointer(unsafe.SliceData(x.Data)), 4*len(x.Data), x.Shape, pb.Tensor_INT32, slot)
}

func (m *memory) exportBools(b []bool, slot string) (*pb.Tensor, error) {
	if b == nil {
		return nil, nil
	}
	return m.export(unsafe.Pointer(unsafe.SliceData(b)), len(b), []int{len(b)}, pb.Tensor_BOOL, slot)
}

// view validates a descriptor and returns its bytes.
func (m *memory) view(d *pb.Tensor, want pb.Tensor_DType, elem int) ([]byte, []int, error) {
	if d.GetDtype() != want {
		return nil, nil, fmt.Errorf("tensor descriptor has dtype %v, want %v", d.GetDtype(), want)
	}
	shape := make([]int, len(d.Shape))
	n := 1
	for i, v := range d.Shape {
		if v < 0 || v > 1<<40 {
			return nil, nil, fmt.Errorf("tensor descriptor has invalid dimension %d in shape %v", v, d.Shape)
		}
		shape[i] = int(v)
		n *= int(v)
	}
	if n == 0 {
		return nil, shape, nil
	}
	s, err := m.lookup(d.Segment)
	if err != nil {
		return nil, nil, err
	}
	off, size := d.Offset, int64(n)*int64(elem)
	if off < 0 || off%int64(elem) != 0 || off+size > int64(len(s.data)) {
		return nil, nil, fmt.Errorf("tensor descriptor %s[%d:+%d] lies outside its %d-byte segment or is misaligned", d.Segment, off, size, len(s.data))
	}
	return s.data[off : off+size], shape, nil
}

func (m *memory) importTensor(d *pb.Tensor) (*tensor.Tensor, error) {
	if d == nil {
		return nil, nil
	}
	b, shape, err := m.view(d, pb.Tensor_FLOAT32, 4)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return tensor.New(shape...), nil
	}
	return &tensor.Tensor{Shape: shape, Data: unsafe.Slice((*float32)(unsafe.Pointer(&b[0])), len(b)/4)}, nil
}

func (m *memory) importInts(d *pb.Tensor) (*Ints, error) {
	if d == nil {
		return nil, nil
	}
	b, shape, err := m.view(d, pb.Tensor_INT32, 4)
	if err != nil {
		return nil, err
	}
	if b == nil {
		return NewInts(shape...), nil
	}
	return &Ints{Shape: shape, Data: unsafe.Slice((*int32)(unsafe.Pointer(&b[0])), len(b)/4)}, nil
}

func (m *memory) importBools(d *pb.Tensor) ([]bool, error) {
	if d == nil {
		return nil, nil
	}
	b, _, err := m.view(d, pb.Tensor_BOOL, 1)
	if err != nil {
		return nil, err
	}
	for i, v := range b {
		if v > 1 {
			return nil, fmt.Errorf("boolean tensor holds %d at [%d]", v, i)
		}
	}
	if b == nil {
		return []bool{}, nil
	}
	return unsafe.Slice((*bool)(unsafe.Pointer(&b[0])), len(b)), nil
}

func (m *memory) exportBatch(b *Batch, slot string) (*pb.Batch, error) {
	if b == nil {
		return nil, fmt.Errorf("nil batch")
	}
	in, err := m.exportInts(b.Inputs, slot+".inputs")
	if err != nil {
		return nil, err
	}
	tg, err := m.exportInts(b.Targets, slot+".targets")
	if err != nil {
		return nil, err
	}
	km, err := m.exportInts(b.KeyMask, slot+".keymask")
	if err != nil {
		return nil, err
	}
	di, err := m.exportInts(b.DecoderInputs, slot+".decoder")
	if err != nil {
		return nil, err
	}
	return &pb.Batch{Inputs: in, Targets: tg, KeyMask: km, DecoderInputs: di}, nil
}

func (m *memory) importBatch(d *pb.Batch) (*Batch, error) {
	if d == nil || d.Inputs == nil {
		return nil, fmt.Errorf("batch without inputs")
	}
	in, err := m.importInts(d.Inputs)
	if err != nil {
		return nil, fmt.Errorf("batch inputs: %w", err)
	}
	tg, err := m.importInts(d.Targets)
	if err != nil {
		return nil, fmt.Errorf("batch targets: %w", err)
	}
	km, err := m.importInts(d.KeyMask)
	if err != nil {
		return nil, fmt.Errorf("batch key mask: %w", err)
	}
	di, err := m.importInts(d.DecoderInputs)
	if err != nil {
		return nil, fmt.Errorf("batch decoder inputs: %w", err)
	}
	return &Batch{Inputs: in, Targets: tg, KeyMask: km, DecoderInputs: di}, nil
}
