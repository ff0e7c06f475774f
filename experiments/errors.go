package experiments

import (
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"

	"go.yaml.in/yaml/v3"
)

// ConfigError is one problem with an experiment's configuration. The CLI
// exits with code 2 when errors.As finds one; Load and ValidateTrials
// return several of them joined with errors.Join when a file has several
// problems.
type ConfigError struct {
	File   string // the experiment file, as given to Load
	Line   int    // 1-based line in File; 0 if unknown or if Source is set
	Path   string // key path: "trial.train.lr", "sweep.parameters[train.lr].min"
	Source string // where the value came from if not the file: "--set train.lr=3e-4", "env ATTNLAB_TRAIN_LR"
	Got    string // what was given: `"fast"`, `an unknown key`; may be empty
	Want   string // what was expected (the whole message when Got is empty)
}

// Error formats the problem as FILE[:LINE]: PATH [(from SOURCE)]: got GOT, want WANT.
func (e *ConfigError) Error() string {
	var b strings.Builder
	b.WriteString(e.File)
	if e.Line > 0 {
		fmt.Fprintf(&b, ":%d", e.Line)
	}
	if e.Path != "" {
		b.WriteString(": " + e.Path)
	}
	if e.Source != "" {
		b.WriteString(" (from " + e.Source + ")")
	}
	b.WriteString(": ")
	if e.Got != "" {
		b.WriteString("got " + e.Got + ", want " + e.Want)
	} else {
		b.WriteString(e.Want)
	}
	return b.String()
}

// maxProblems caps how many problems one error reports.
const maxProblems = 10

// problems collects ConfigErrors for one experiment file. Each is located
// by its key path: the line comes from the YAML node tree (viper keeps no
// positions), unless an override supplied the value.
type problems struct {
	file    string
	root    *yaml.Node        // the file's document; nil before parsing
	sources map[string]string // key path -> override that set it
	errs    []*ConfigError
	seen    map[string]bool
}

func newProblems(file string) *problems {
	return &problems{file: file, sources: map[string]string{}, seen: map[string]bool{}}
}

// add records a problem at path p; identical messages are kept once.
func (ps *problems) add(p keyPath, got, want string) {
	e := &ConfigError{File: ps.file, Path: p.String(), Got: got, Want: want}
	if src, ok := ps.sources[e.Path]; ok {
		e.Source = src
	} else {
		e.Line = lineOf(ps.root, p)
	}
	if msg := e.Error(); !ps.seen[msg] {
		ps.seen[msg] = true
		ps.errs = append(ps.errs, e)
	}
}

// err returns the collected problems (nil if none), at most maxProblems:
// those with a line in line order, then the others in the order found.
func (ps *problems) err() error {
	if len(ps.errs) == 0 {
		return nil
	}
	sort.SliceStable(ps.errs, func(i, j int) bool {
		li, lj := ps.errs[i].Line, ps.errs[j].Line
		return li > 0 && (lj == 0 || li < lj)
	})
	errs := make([]error, 0, maxProblems+1)
	for i, e := range ps.errs {
		if i == maxProblems {
			errs = append(errs, fmt.Errorf("... and %d more problems", len(ps.errs)-maxProblems))
			break
		}
		errs = append(errs, e)
	}
	if len(errs) == 1 {
		return errs[0]
	}
	return errors.Join(errs...)
}

// keyPath is a path of mapping keys (and "[i]" sequence indexes) from the
// document root. Keys that contain dots (sweep parameters) print in
// brackets: sweep.parameters[train.lr].min.
type keyPath []string

func path(segs ...string) keyPath { return keyPath(segs) }

func (p keyPath) with(segs ...string) keyPath {
	return append(append(keyPath{}, p...), segs...)
}

func (p keyPath) String() string {
	var b strings.Builder
	for i, s := range p {
		switch {
		case strings.HasPrefix(s, "["):
			b.WriteString(s)
		case strings.Contains(s, "."):
			b.WriteString("[" + s + "]")
		default:
			if i > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s)
		}
	}
	return b.String()
}

// nodeAt returns the value node at path p of the document, or nil.
func nodeAt(root *yaml.Node, p keyPath) *yaml.Node {
	if root == nil || len(root.Content) == 0 {
		return nil
	}
	n := root.Content[0]
	for _, seg := range p {
		var next *yaml.Node
		if n.Kind == yaml.MappingNode {
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					next = n.Content[i+1]
				}
			}
		}
		if next == nil {
			return nil
		}
		n = next
	}
	return n
}

// lineOf returns the line of the deepest node of p found in the document:
// the key's line for a mapping key, the item's line for a sequence index,
// so a missing key points at its parent section. 0 if nothing matches.
func lineOf(root *yaml.Node, p keyPath) int {
	if root == nil {
		return 0
	}
	n := root
	if n.Kind == yaml.DocumentNode && len(n.Content) > 0 {
		n = n.Content[0]
	}
	line := 0
	for _, seg := range p {
		next := (*yaml.Node)(nil)
		switch n.Kind {
		case yaml.MappingNode:
			for i := 0; i+1 < len(n.Content); i += 2 {
				if n.Content[i].Value == seg {
					line, next = n.Content[i].Line, n.Content[i+1]
				}
			}
		case yaml.SequenceNode:
			if i, err := strconv.Atoi(strings.Trim(seg, "[]")); err == nil && strings.HasPrefix(seg, "[") && i < len(n.Content) {
				line, next = n.Content[i].Line, n.Content[i]
			}
		}
		if next == nil {
			break
		}
		n = next
	}
	return line
}

// show renders a value as it would be written in YAML, for "got".
func show(v any) string {
	switch x := v.(type) {
	case nil:
		return "null"
	case string:
		return strconv.Quote(x)
	case float64:
		return formatFloat(x)
	case []any:
		items := make([]string, len(x))
		for i, it := range x {
			items[i] = show(it)
		}
		return "a list [" + strings.Join(items, ", ") + "]"
	case map[string]any:
		keys := make([]string, 0, len(x))
		for k := range x {
			keys = append(keys, k)
		}
		sort.Strings(keys)
		return "a mapping {" + strings.Join(keys, ", ") + "}"
	}
	return fmt.Sprint(v)
}

// formatFloat prints a float the shortest way that reads back exactly,
// with an exponent for very small or large values (3e-4, not 0.0003).
func formatFloat(f float64) string {
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return fmt.Sprint(f)
	}
	s := strconv.FormatFloat(f, 'g', -1, 64)
	return strings.NewReplacer("e-0", "e-", "e+0", "e+").Replace(s)
}

// oneOf renders a list of choices: "one of: a, b, c".
func oneOf(xs []string) string { return "one of: " + strings.Join(xs, ", ") }
