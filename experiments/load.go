package experiments

import (
	"bytes"
	"errors"
	"io/fs"
	"os"
	"regexp"
	"sort"
	"strconv"
	"strings"

	"github.com/spf13/viper"
	"go.yaml.in/yaml/v3"
)

// EnvPrefix starts the environment variables that override config keys.
const EnvPrefix = "ATTNLAB_"

// keyDelim is viper's key delimiter. Not ".": sweep parameter names
// ("train.lr") contain dots and must stay single keys.
const keyDelim = "::"

// Sections of a trial: the three components and the train settings.
var sections = []string{"objective", "architecture", "attention", "train"}

// topScalars are the top-level keys an override may set.
var topScalars = []string{"name", "seed", "repeats", "parallel"}

// Load reads the experiment in file, applies the environment's ATTNLAB_*
// variables and then the --set overrides (precedence: file < env <
// --set), checks every key, and expands the sweep once so that bad sweep
// values are reported now. env is a list of KEY=VALUE strings, normally
// os.Environ(). Every problem found is reported: the error is a
// *ConfigError or several joined with errors.Join.
func Load(file string, overrides, env []string) (*Experiment, error) {
	ps := newProblems(file)
	data, err := os.ReadFile(file)
	if err != nil {
		got := err.Error()
		if errors.Is(err, fs.ErrNotExist) {
			got = "no such file"
		}
		return nil, &ConfigError{File: file, Got: got, Want: "a readable experiment YAML file"}
	}
	root, err := parseYAML(file, data)
	if err != nil {
		return nil, err
	}
	ps.root = root
	var empties []keyPath
	checkNodes(ps, root.Content[0], nil, &empties)
	if err := ps.err(); err != nil {
		return nil, err
	}

	v := viper.NewWithOptions(viper.KeyDelimiter(keyDelim))
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return nil, &ConfigError{File: file, Want: "valid YAML: " + err.Error()}
	}
	// Overrides that fail are reported with the problems decode finds.
	applied := applyOverrides(ps, v, overrides, env)
	settings := v.AllSettings()
	// viper drops empty mappings; put them back so that "sweep: {}" is
	// an empty sweep rather than no sweep at all.
	for _, p := range empties {
		insertIfAbsent(settings, p, map[string]any{})
	}

	e := decode(ps, settings)
	if err := ps.err(); err != nil {
		return nil, err
	}
	e.File, e.YAML, e.Overrides, e.settings, e.ps = file, data, applied, settings, ps
	if _, err := e.Trials(); err != nil {
		return nil, err
	}
	return e, nil
}

var yamlLine = regexp.MustCompile(`^yaml: line (\d+): `)

// parseYAML parses data into a node tree (which keeps line numbers) and
// checks that the document is a mapping.
func parseYAML(file string, data []byte) (*yaml.Node, error) {
	var root yaml.Node
	if err := yaml.Unmarshal(data, &root); err != nil {
		msg := err.Error()
		line := 0
		if m := yamlLine.FindStringSubmatch(msg); m != nil {
			line, _ = strconv.Atoi(m[1])
			msg = msg[len(m[0]):]
			if isParserError(msg) {
				line++
			}
		}
		msg = strings.TrimPrefix(msg, "yaml: ")
		return nil, &ConfigError{File: file, Line: line, Want: "valid YAML: " + msg}
	}
	if len(root.Content) == 0 {
		return nil, &ConfigError{File: file, Got: "an empty file", Want: "an experiment: name, trial and optionally sweep"}
	}
	if top := root.Content[0]; top.Kind != yaml.MappingNode {
		return nil, &ConfigError{File: file, Line: top.Line, Got: "a " + kindName(top), Want: "a mapping of " + strings.Join(topKeys, ", ")}
	}
	return &root, nil
}

// isParserError tells yaml.v3's parser errors from its scanner errors by
// their message: yaml.v3 prints a parser error's line 0-based (the start
// of the enclosing collection, or the problem), a scanner error's 1-based.
func isParserError(msg string) bool {
	for _, prefix := range []string{"did not find expected", "found duplicate %", "found incompatible YAML document", "found undefined tag handle"} {
		if strings.HasPrefix(msg, prefix) {
			return true
		}
	}
	return false
}

func kindName(n *yaml.Node) string {
	switch n.Kind {
	case yaml.SequenceNode:
		return "list"
	case yaml.MappingNode:
		return "mapping"
	}
	return "scalar " + strconv.Quote(n.Value)
}

// checkNodes walks the node tree for what viper would hide: duplicate
// keys (the last silently wins), keys that are not lower-case (viper
// folds case) and null values (viper drops them). It records the empty
// mappings, which viper drops too.
func checkNodes(ps *problems, n *yaml.Node, p keyPath, empties *[]keyPath) {
	switch n.Kind {
	case yaml.MappingNode:
		if len(n.Content) == 0 {
			*empties = append(*empties, p)
		}
		first := map[string]int{}
		for i := 0; i+1 < len(n.Content); i += 2 {
			k, val := n.Content[i], n.Content[i+1]
			if k.Value == "<<" { // a YAML merge key; viper applies it
				continue
			}
			kp := p.with(k.Value)
			if line, dup := first[k.Value]; dup {
				ps.add(kp, "a second "+strconv.Quote(k.Value)+" key (the first is on line "+strconv.Itoa(line)+")", "each key once")
				continue
			}
			first[k.Value] = k.Line
			if lower := strings.ToLower(k.Value); k.Value != lower {
				ps.add(kp, strconv.Quote(k.Value), "a lower-case key ("+strconv.Quote(lower)+": keys are matched case-insensitively)")
				continue
			}
			if val.Kind == yaml.ScalarNode && val.ShortTag() == "!!null" {
				ps.add(kp, "null (an empty value)", "a value")
				continue
			}
			checkNodes(ps, val, kp, empties)
		}
	case yaml.SequenceNode:
		for i, it := range n.Content {
			checkNodes(ps, it, p.with("["+strconv.Itoa(i)+"]"), empties)
		}
	}
}

// applyOverrides sets the environment's overrides and then the --set
// ones in viper's override layer, so later ones win, and remembers where
// each value came from. It returns them in the order applied.
func applyOverrides(ps *problems, v *viper.Viper, overrides, env []string) []string {
	var applied []string
	set := func(p keyPath, raw, source, record string) {
		var val any
		err := yaml.Unmarshal([]byte(raw), &val)
		switch val.(type) {
		case nil, []any, map[string]any:
			err = errors.New("not a scalar")
		}
		if err != nil {
			ps.errs = append(ps.errs, &ConfigError{File: ps.file, Path: p.String(), Source: source, Got: strconv.Quote(raw),
				Want: "a YAML scalar: a number, true/false or a string (quote a string that looks like a number)"})
			return
		}
		// viper would silently replace a scalar or list in the file by
		// a mapping holding the override.
		for i := 1; i < len(p); i++ {
			if n := nodeAt(ps.root, p[:i]); n != nil && n.Kind != yaml.MappingNode {
				ps.add(p[:i], "a "+kindName(n), "a mapping (--set and env set "+p.String()+" inside it)")
				return
			}
		}
		ps.sources[p.String()] = source
		v.Set(strings.Join(p, keyDelim), val)
		applied = append(applied, record)
	}

	var names []string
	values := map[string]string{}
	for _, kv := range env {
		name, value, ok := strings.Cut(kv, "=")
		if ok && strings.HasPrefix(name, EnvPrefix) {
			names = append(names, name)
			values[name] = value
		}
	}
	sort.Strings(names) // environ order is arbitrary
	for _, name := range names {
		if p := envPath(strings.TrimPrefix(name, EnvPrefix)); p != nil {
			set(p, values[name], "env "+name, "env "+name+"="+values[name])
		}
	}

	for _, o := range overrides {
		source := "--set " + o
		key, raw, ok := strings.Cut(o, "=")
		p := setPath(key)
		switch {
		case !ok:
			ps.errs = append(ps.errs, &ConfigError{File: ps.file, Source: source, Got: strconv.Quote(o), Want: "KEY=VALUE, like train.lr=3e-4"})
		case p == nil:
			ps.errs = append(ps.errs, &ConfigError{File: ps.file, Path: key, Source: source, Got: "an unknown key path",
				Want: "a lower-case path like train.lr, attention.plugin, seed, early_stop.metric or sweep.samples"})
		default:
			set(p, raw, source, source)
		}
	}
	return applied
}

// setPath maps a --set key to its place in the file: "train.lr" and
// "trial.train.lr" are trial.train.lr. It returns nil for a key that no
// override may set (sweep parameters are edited in the file).
func setPath(key string) keyPath {
	segs := strings.Split(key, ".")
	for _, s := range segs {
		if s == "" || s != strings.ToLower(s) {
			return nil
		}
	}
	switch {
	case len(segs) == 1 && contains(topScalars, segs[0]):
		return segs
	case len(segs) == 2 && contains(sections, segs[0]):
		return path("trial", segs[0], segs[1])
	case len(segs) == 3 && segs[0] == "trial" && contains(sections, segs[1]):
		return segs
	case len(segs) == 2 && segs[0] == "early_stop":
		return segs
	case len(segs) == 2 && segs[0] == "sweep" && (segs[1] == "method" || segs[1] == "samples"):
		return segs
	}
	return nil
}

// envPath maps an environment variable name without the prefix to a key
// path: TRAIN_WEIGHT_DECAY is trial.train.weight_decay. Names that map
// to no config key return nil and are left alone (the CLI may use
// ATTNLAB_* variables of its own).
func envPath(name string) keyPath {
	lower := strings.ToLower(name)
	if contains(topScalars, lower) {
		return path(lower)
	}
	if lower == "sweep_method" || lower == "sweep_samples" {
		return path("sweep", strings.TrimPrefix(lower, "sweep_"))
	}
	if rest, ok := strings.CutPrefix(lower, "early_stop_"); ok && rest != "" {
		return path("early_stop", rest)
	}
	for _, s := range sections {
		if rest, ok := strings.CutPrefix(lower, s+"_"); ok && rest != "" {
			return path("trial", s, rest)
		}
	}
	return nil
}

// insertIfAbsent sets m at path p to v unless something is there.
func insertIfAbsent(m map[string]any, p keyPath, v any) {
	for i, seg := range p {
		if strings.HasPrefix(seg, "[") {
			return // inside a list: viper keeps lists as they are
		}
		if i == len(p)-1 {
			if _, ok := m[seg]; !ok {
				m[seg] = v
			}
			return
		}
		next, ok := m[seg].(map[string]any)
		if !ok {
			if _, taken := m[seg]; taken {
				return
			}
			next = map[string]any{}
			m[seg] = next
		}
		m = next
	}
}
