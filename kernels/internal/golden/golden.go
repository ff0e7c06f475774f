package golden

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/attnlab/attnlab/kernels/tensor"
)

// Case is one golden file.
type Case struct {
	Name   string // file name without .json, e.g. "attention_causal"
	Op     string // the operation, e.g. "attention"
	Source string // what produced it, e.g. "PyTorch 1.13.0a0, kernels/testdata/gen_golden.py"
	Doc    string // one line on what the case computes and the tensors' roles

	tb      testing.TB
	tensors map[string]*tensor.Tensor
	ints    map[string]intTensor
	attrs   map[string]float64
}

type intTensor struct {
	shape []int
	data  []int32
}

// file is the JSON layout written by gen_golden.py.
type file struct {
	Op      string                     `json:"op"`
	Source  string                     `json:"source"`
	Doc     string                     `json:"doc"`
	Attrs   map[string]json.RawMessage `json:"attrs"`
	Tensors map[string]struct {
		Shape []int     `json:"shape"`
		Data  []float64 `json:"data"`
	} `json:"tensors"`
	Ints map[string]struct {
		Shape []int   `json:"shape"`
		Data  []int64 `json:"data"`
	} `json:"ints"`
}

// Dir returns the golden directory, kernels/testdata/golden under the
// module root (the nearest ancestor of the working directory that holds
// go.mod). It fails t if there is none.
func Dir(t testing.TB) string {
	t.Helper()
	dir, err := findDir()
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	return dir
}

func findDir() (string, error) {
	wd, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for d := wd; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			g := filepath.Join(d, "kernels", "testdata", "golden")
			if st, err := os.Stat(g); err != nil || !st.IsDir() {
				return "", fmt.Errorf("module root %s has no kernels/testdata/golden directory (run make golden)", d)
			}
			return g, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod in %s or any parent directory", wd)
		}
	}
}

// Names returns the names of every golden case, sorted.
func Names(t testing.TB) []string {
	t.Helper()
	paths, err := filepath.Glob(filepath.Join(Dir(t), "*.json"))
	if err != nil {
		t.Fatalf("golden: %v", err)
	}
	names := make([]string, len(paths))
	for i, p := range paths {
		names[i] = strings.TrimSuffix(filepath.Base(p), ".json")
	}
	slices.Sort(names)
	return names
}

// Load reads and validates the golden case name (kernels/testdata/golden/
// <name>.json). It fails t if the file is missing or malformed.
func Load(t testing.TB, name string) *Case {
	t.Helper()
	path := filepath.Join(Dir(t), name+".json")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("golden: %v (regenerate with make golden)", err)
	}
	c, err := parse(name, data)
	if err != nil {
		t.Fatalf("golden: %s: %v", path, err)
	}
	c.tb = t
	return c
}

// parse decodes and validates one golden file.
func parse(name string, data []byte) (*Case, error) {
	var f file
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, err
	}
	if f.Op == "" || f.Source == "" {
		return nil, errors.New(`"op" and "source" must be set`)
	}
	c := &Case{Name: name, Op: f.Op, Source: f.Source, Doc: f.Doc,
		tensors: map[string]*tensor.Tensor{}, ints: map[string]intTensor{}, attrs: map[string]float64{}}
	for k, raw := range f.Attrs {
		var v any
		if err := json.Unmarshal(raw, &v); err != nil {
			return nil, fmt.Errorf("attr %q: %v", k, err)
		}
		switch v := v.(type) {
		case float64:
			c.attrs[k] = v
		case bool:
			c.attrs[k] = 0
			if v {
				c.attrs[k] = 1
			}
		default:
			return nil, fmt.Errorf("attr %q is %s, want a number or a bool", k, raw)
		}
	}
	for k, t := range f.Tensors {
		if err := checkShape(k, t.Shape, len(t.Data)); err != nil {
			return nil, err
		}
		x := make([]float32, len(t.Data))
		for i, v := range t.Data {
			x[i] = float32(v)
			if float64(x[i]) != v {
				return nil, fmt.Errorf("tensor %q[%d] = %v is not exactly a float32", k, i, v)
			}
		}
		c.tensors[k] = &tensor.Tensor{Shape: t.Shape, Data: x}
	}
	for k, t := range f.Ints {
		if err := checkShape(k, t.Shape, len(t.Data)); err != nil {
			return nil, err
		}
		x := make([]int32, len(t.Data))
		for i, v := range t.Data {
			if v < math.MinInt32 || v > math.MaxInt32 {
				return nil, fmt.Errorf("ints %q[%d] = %d does not fit in int32", k, i, v)
			}
			x[i] = int32(v)
		}
		c.ints[k] = intTensor{t.Shape, x}
	}
	return c, nil
}

func checkShape(name string, shape []int, n int) error {
	if shape == nil {
		return fmt.Errorf("%q has no shape", name)
	}
	if want := tensor.Numel(shape); want != n {
		return fmt.Errorf("%q has %d values but shape %s needs %d", name, n, tensor.FormatShape(shape), want)
	}
	return nil
}

// T returns a fresh copy of tensor name, so tests may modify it. It fails
// the test if the case has no such tensor.
func (c *Case) T(name string) *tensor.Tensor {
	c.tb.Helper()
	t, err := c.tensor(name)
	if err != nil {
		c.tb.Fatal(err)
	}
	return t
}

func (c *Case) tensor(name string) (*tensor.Tensor, error) {
	t, ok := c.tensors[name]
	if !ok {
		return nil, fmt.Errorf("golden %s: no tensor %q; it has %s", c.Name, name, strings.Join(c.TensorNames(), ", "))
	}
	return t.Clone(), nil
}

// Ints returns a fresh copy of integer tensor name (token ids, targets,
// masks), flattened; IntsShape gives its shape. It fails the test if the
// case has no such tensor.
func (c *Case) Ints(name string) []int32 {
	c.tb.Helper()
	x, err := c.intTensor(name)
	if err != nil {
		c.tb.Fatal(err)
	}
	return slices.Clone(x.data)
}

// IntsShape returns the shape of integer tensor name.
func (c *Case) IntsShape(name string) []int {
	c.tb.Helper()
	x, err := c.intTensor(name)
	if err != nil {
		c.tb.Fatal(err)
	}
	return slices.Clone(x.shape)
}

func (c *Case) intTensor(name string) (intTensor, error) {
	x, ok := c.ints[name]
	if !ok {
		return x, fmt.Errorf("golden %s: no ints %q; it has %s", c.Name, name, strings.Join(c.IntNames(), ", "))
	}
	return x, nil
}

// Attr returns attribute name (booleans read as 0 or 1). It fails the test
// if the case has no such attribute.
func (c *Case) Attr(name string) float64 {
	c.tb.Helper()
	v, err := c.attr(name)
	if err != nil {
		c.tb.Fatal(err)
	}
	return v
}

func (c *Case) attr(name string) (float64, error) {
	v, ok := c.attrs[name]
	if !ok {
		return 0, fmt.Errorf("golden %s: no attr %q; it has %s", c.Name, name, strings.Join(c.AttrNames(), ", "))
	}
	return v, nil
}

// Has reports whether the case has a float tensor called name.
func (c *Case) Has(name string) bool {
	_, ok := c.tensors[name]
	return ok
}

// TensorNames returns the names of the float tensors, sorted.
func (c *Case) TensorNames() []string { return sortedKeys(c.tensors) }

// IntNames returns the names of the integer tensors, sorted.
func (c *Case) IntNames() []string { return sortedKeys(c.ints) }

// AttrNames returns the names of the attributes, sorted.
func (c *Case) AttrNames() []string { return sortedKeys(c.attrs) }

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
