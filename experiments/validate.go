package experiments

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// Kinds passed to a DescribeFunc; they are the values of sdk.Kind.
const (
	KindObjective    = "objective"
	KindArchitecture = "arch"
	KindAttention    = "attention"
)

// Parameter types of a Schema; they are the values of sdk.ParamType.
const (
	ParamInt    = "int"
	ParamFloat  = "float"
	ParamString = "string"
	ParamBool   = "bool"
)

// Schema is a plugin's configuration schema as validation needs it: the
// Params of the plugin's sdk.Description, copied field by field (this
// package does not import plugins/sdk; see the package doc).
type Schema struct {
	Params []Param
}

// Param mirrors sdk.Param: a parameter's name, type, default (nil means
// required), one-line doc, allowed strings and inclusive numeric bounds.
type Param struct {
	Name    string
	Type    string // ParamInt, ParamFloat, ParamString or ParamBool
	Default any    // int64, float64, string or bool; nil: required
	Doc     string
	Choices []string
	Min     *float64
	Max     *float64
}

// DescribeFunc returns the schema of a plugin of a kind (KindObjective,
// KindArchitecture or KindAttention). For a plugin that does not exist
// it returns an *UnknownPluginError; any other error (a plugin that
// fails to start) is passed on as it is.
type DescribeFunc func(kind, plugin string) (Schema, error)

// UnknownPluginError is what a DescribeFunc returns for a plugin name it
// does not know.
type UnknownPluginError struct {
	Kind      string
	Plugin    string
	Available []string // the plugins of that kind, sorted
}

func (e *UnknownPluginError) Error() string {
	return fmt.Sprintf("no %s plugin %q (available: %s)", e.Kind, e.Plugin, strings.Join(e.Available, ", "))
}

// componentKinds maps trial sections to plugin kinds.
var componentKinds = []struct{ section, kind string }{
	{"objective", KindObjective}, {"architecture", KindArchitecture}, {"attention", KindAttention},
}

// Resolve expands the sweep and validates it: Trials, then ValidateTrials.
func (e *Experiment) Resolve(describe DescribeFunc) ([]Trial, error) {
	trials, err := e.Trials()
	if err != nil {
		return nil, err
	}
	if err := e.ValidateTrials(trials, describe); err != nil {
		return nil, err
	}
	return trials, nil
}

// ValidateTrials checks every component of every trial against its
// plugin's schema: unknown plugins, unknown parameters, wrong types and
// values out of range, missing required parameters. describe is called
// once per plugin. If everything is valid, each trial's component Params
// are replaced by the resolved ones (defaults filled in; int64, float64,
// string or bool), its ID and ConfigID are recomputed on them and
// Resolved is set; two trials that resolve to the same configuration and
// seed are an error. If anything is invalid, trials are left unchanged.
func (e *Experiment) ValidateTrials(trials []Trial, describe DescribeFunc) error {
	ps := e.problems()
	type answer struct {
		schema Schema
		err    error
	}
	schemas := map[[2]string]answer{}
	var failures []error // plugins that could not describe themselves
	failed := map[string]bool{}
	resolved := make([][3]map[string]any, len(trials))

	for i := range trials {
		t := &trials[i]
		for j, ck := range componentKinds {
			c := t.component(ck.section)
			where := func(param string) keyPath {
				if _, swept := t.Params[ck.section+"."+param]; swept {
					return path("sweep", "parameters", ck.section+"."+param)
				}
				return path("trial", ck.section, param)
			}
			if c.Plugin == "" {
				if ck.kind != KindAttention || len(c.Params) > 0 {
					ps.add(where("plugin"), "nothing", "the name of the "+ck.section+" plugin")
				}
				continue
			}
			a, ok := schemas[[2]string{ck.kind, c.Plugin}]
			if !ok {
				a.schema, a.err = describe(ck.kind, c.Plugin)
				schemas[[2]string{ck.kind, c.Plugin}] = a
			}
			var unknown *UnknownPluginError
			switch {
			case errors.As(a.err, &unknown) && len(unknown.Available) == 0:
				ps.add(where("plugin"), strconv.Quote(c.Plugin), "an installed "+ck.section+" plugin (none are installed)")
			case errors.As(a.err, &unknown):
				ps.add(where("plugin"), strconv.Quote(c.Plugin), "one of the "+ck.section+" plugins: "+strings.Join(unknown.Available, ", "))
			case a.err != nil:
				err := fmt.Errorf("%s: %s: %s plugin %q: describe: %w", e.File, where("plugin"), ck.section, c.Plugin, a.err)
				if !failed[err.Error()] {
					failed[err.Error()] = true
					failures = append(failures, err)
				}
			default:
				resolved[i][j] = resolveParams(ps, a.schema, ck.section, *c, where)
			}
		}
	}
	if err := ps.err(); err != nil || len(failures) > 0 {
		return errors.Join(append(failures, err)...)
	}

	byID := map[string]int{}
	for i := range trials {
		t := &trials[i]
		for j, ck := range componentKinds {
			if c := t.component(ck.section); c.Plugin != "" {
				c.Params = resolved[i][j]
			}
		}
		t.Resolved = true
		t.identify()
		if j, dup := byID[t.ID]; dup {
			ps.add(path("sweep", "parameters"), fmt.Sprintf("trials %d %s and %d %s that are the same trial once defaults are filled in",
				j, showParams(trials[j].Params), i, showParams(t.Params)), "distinct configurations: drop one of the values")
		}
		byID[t.ID] = i
	}
	return ps.err()
}

// resolveParams checks a component's params against its schema and
// returns them with defaults filled in; nil if something is wrong.
func resolveParams(ps *problems, s Schema, section string, c Component, where func(string) keyPath) map[string]any {
	who := fmt.Sprintf("%s plugin %q", section, c.Plugin)
	names := make([]string, len(s.Params))
	byName := map[string]Param{}
	for i, p := range s.Params {
		names[i] = p.Name
		byName[p.Name] = p
	}
	ok := true
	for _, k := range sortedKeys(c.Params) {
		if _, known := byName[k]; !known {
			want := "one of its parameters: " + strings.Join(names, ", ")
			if len(names) == 0 {
				want = "no parameters: " + who + " takes none"
			}
			ps.add(where(k), "a parameter that "+who+" does not have", want)
			ok = false
		}
	}
	out := make(map[string]any, len(s.Params))
	for _, p := range s.Params {
		v, given := c.Params[p.Name]
		if !given && p.Default == nil {
			ps.add(where(p.Name), "nothing", fmt.Sprintf("%s (%s requires it: %s)", p.want(), who, p.Doc))
			ok = false
			continue
		}
		if !given {
			v = p.Default
		}
		x, want := p.convert(v)
		switch {
		case want != "" && given:
			ps.add(where(p.Name), show(v), fmt.Sprintf("%s (%s: %s)", want, who, p.Doc))
			ok = false
		case want != "":
			ps.add(where(p.Name), "the default "+show(v), want+" (the schema of "+who+" is inconsistent)")
			ok = false
		default:
			out[p.Name] = x
		}
	}
	if !ok {
		return nil
	}
	return out
}

// want describes the values the parameter takes.
func (p Param) want() string {
	r := Range{}
	if p.Min != nil {
		r.Min, r.HasMin = *p.Min, true
	}
	if p.Max != nil {
		r.Max, r.HasMax = *p.Max, true
	}
	bounds := ""
	if s := r.String(); s != "" {
		bounds = " " + s
	}
	switch p.Type {
	case ParamInt:
		return "an integer" + bounds
	case ParamFloat:
		return "a number" + bounds
	case ParamString:
		if len(p.Choices) > 0 {
			return oneOf(p.Choices)
		}
		return "a string"
	case ParamBool:
		return "true or false"
	}
	return "a value of a known type (the schema says " + strconv.Quote(p.Type) + ")"
}

// convert checks v against the parameter as sdk.Description.Resolve does
// and returns it as int64, float64, string or bool; or what it wanted.
func (p Param) convert(v any) (any, string) {
	var out any
	var num float64
	switch p.Type {
	case ParamInt:
		i, ok := asInt(v)
		if !ok {
			return nil, p.want()
		}
		out, num = i, float64(i)
	case ParamFloat:
		f, ok := asFloat(v)
		if !ok {
			return nil, p.want()
		}
		out, num = f, f
	case ParamString:
		s, ok := v.(string)
		if !ok || len(p.Choices) > 0 && !contains(p.Choices, s) {
			return nil, p.want()
		}
		return s, ""
	case ParamBool:
		b, ok := v.(bool)
		if !ok {
			return nil, p.want()
		}
		return b, ""
	default:
		return nil, p.want()
	}
	if p.Min != nil && num < *p.Min || p.Max != nil && num > *p.Max {
		return nil, p.want()
	}
	return out, ""
}
