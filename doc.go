// Package attnlab is a plugin-based harness for comparing transformer ideas
// (attention variants, architectures and training objectives) side by side,
// reproducibly, on a CPU. The code lives in the sub-packages; this package
// holds only repository-wide checks (repo_test.go).
package attnlab
