// Package golden loads the PyTorch reference values in
// kernels/testdata/golden for kernel tests.
//
// Each golden file is one case written by kernels/testdata/gen_golden.py
// (see kernels/testdata/README.md): named float32 tensors, named integer
// tensors (token ids, targets, masks), scalar attributes (eps, lr, ...) and
// the source that produced them. A test loads a case by name and asks for
// what it needs; anything missing or malformed fails the test with a
// message naming the file and the entry:
//
//	// Reference values: PyTorch 1.13, kernels/testdata/gen_golden.py.
//	c := golden.Load(t, "layernorm")
//	inp, want := c.T("inp"), c.T("out")
//	eps := float32(c.Attr("eps"))
//
// Files are found from the test's working directory by walking up to the
// directory holding go.mod, so any package in the module can load them.
// Loading checks that every tensor's data matches its shape and that every
// value is exactly a float32, so a golden file cannot silently lose
// precision.
package golden
