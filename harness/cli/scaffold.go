package cli

import (
	"bufio"
	"bytes"
	"embed"
	"errors"
	"fmt"
	"go/format"
	"go/token"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"text/template"

	"github.com/spf13/cobra"

	"github.com/attnlab/attnlab/plugins/sdk"
)

// `attnlab plugin new KIND NAME` writes a new plugin from the templates in
// scaffold/KIND: a component that works as it is (plain softmax
// attention; a small attention-only language model; a synthetic
// next-token objective), its test, its doc.go and the three-line main of
// its plugin binary. The test runs the component through the checks every
// plugin should pass, in-process and as a real plugin process, so a
// researcher starts from green and changes the part marked TODO.

//go:embed scaffold
var scaffoldFS embed.FS

// scaffoldKinds maps the KIND argument to the sdk kind and its folder.
var scaffoldKinds = map[string]sdk.Kind{"attention": sdk.KindAttention, "arch": sdk.KindArchitecture, "objective": sdk.KindObjective}

// pluginName is what NAME may be: the binary is KIND-NAME and the folder
// plugins/KIND/NAME, so lowercase letters, digits and single dashes.
var pluginName = regexp.MustCompile(`^[a-z][a-z0-9]*(-[a-z0-9]+)*$`)

// scaffoldData is what the templates see.
type scaffoldData struct {
	Kind       string // attention, arch or objective
	Name       string // the plugin's name, e.g. "sliding-window"
	Package    string // its Go package name, e.g. "slidingwindow"
	ImportPath string // the package's import path
	Module     string // the Go module it is written into
	Dir        string // its folder, relative to the module root
	Binary     string // the plugin binary's name, KIND-NAME
	EnvVar     string // the variable that makes its test binary serve the plugin
}

func pluginCmd(g *globals) *cobra.Command {
	cmd := &cobra.Command{Use: "plugin", Short: "Create plugins"}
	var dir string
	newCmd := &cobra.Command{
		Use:   "new attention|arch|objective NAME",
		Short: "Write a new plugin that builds and passes its own test, ready to change",
		Long: `New writes DIR/KIND/NAME (DIR is plugins by default) with NAME.go (the
component), NAME_test.go (its checks, in-process and as a plugin process),
doc.go and cmd/main.go (the plugin binary). DIR must be inside the attnlab
Go module; an existing folder is never overwritten.

NAME is lowercase letters, digits and dashes, starting with a letter.
Then: go test ./DIR/KIND/NAME/ ; make build ; use {plugin: NAME} in a config.`,
		Args: cobra.ExactArgs(2),
		RunE: func(_ *cobra.Command, args []string) error { return scaffold(g, dir, args[0], args[1]) },
	}
	newCmd.Flags().StringVar(&dir, "dir", "plugins", "folder of the plugin kinds (plugins/attention, ...)")
	cmd.AddCommand(newCmd)
	return cmd
}

func scaffold(g *globals, dir, kind, name string) error {
	if _, ok := scaffoldKinds[kind]; !ok {
		return badInput(fmt.Errorf("unknown plugin kind %q: want attention, arch or objective", kind))
	}
	if !pluginName.MatchString(name) {
		return badInput(fmt.Errorf("plugin name %q: want lowercase letters, digits and single dashes, starting with a letter (e.g. sliding-window)", name))
	}
	pkg := strings.ReplaceAll(name, "-", "")
	if token.IsKeyword(pkg) {
		return badInput(fmt.Errorf("plugin name %q: its Go package name %q is a Go keyword: choose another name", name, pkg))
	}
	absDir, err := filepath.Abs(filepath.Join(dir, kind, name))
	if err != nil {
		return badInput(err)
	}
	if _, err := os.Lstat(absDir); err == nil {
		return badInput(fmt.Errorf("%s already exists: plugin new never overwrites; choose another name or remove it", filepath.Join(dir, kind, name)))
	}
	root, module, err := findModule(filepath.Dir(absDir))
	if err != nil {
		return badInput(fmt.Errorf("--dir %s: %w", dir, err))
	}
	rel, err := filepath.Rel(root, absDir)
	if err != nil {
		return badInput(err)
	}
	d := scaffoldData{Kind: kind, Name: name, Package: pkg, Module: module, Dir: filepath.ToSlash(rel),
		ImportPath: module + "/" + filepath.ToSlash(rel), Binary: kind + "-" + name,
		EnvVar: "ATTNLAB_TEST_SERVE_" + strings.ToUpper(pkg)}
	files, err := renderScaffold(d)
	if err != nil {
		return err // a broken template is attnlab's bug, not bad input
	}
	// Written into a temporary sibling and renamed into place, so that a
	// failure never leaves a half-written plugin.
	if err := os.MkdirAll(filepath.Dir(absDir), 0o755); err != nil {
		return badInput(err)
	}
	tmp, err := os.MkdirTemp(filepath.Dir(absDir), "."+name+"-")
	if err != nil {
		return badInput(err)
	}
	defer os.RemoveAll(tmp)
	for _, f := range files {
		p := filepath.Join(tmp, f.path)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return err
		}
		if err := os.WriteFile(p, f.data, 0o644); err != nil {
			return err
		}
	}
	if err := os.Chmod(tmp, 0o755); err != nil {
		return err
	}
	if err := os.Rename(tmp, absDir); err != nil {
		return fmt.Errorf("moving the new plugin into place: %w", err)
	}
	shown := filepath.Join(dir, kind, name)
	for _, f := range files {
		fmt.Fprintf(g.stdout, "wrote %s\n", filepath.Join(shown, f.path))
	}
	fmt.Fprintf(g.stdout, "\nnext:\n  go test ./%s/\n  make build                      # builds bin/plugins/%s and locks it\n  %s: {plugin: %s}   # in an experiment's trial section\n",
		d.Dir, d.Binary, map[string]string{"attention": "attention", "arch": "architecture", "objective": "objective"}[kind], name)
	return nil
}

type scaffoldFile struct {
	path string // relative to the plugin's folder
	data []byte
}

// renderScaffold executes the kind's templates; Go files are gofmt'ed.
// Template file names map to output names: plugin.go.tmpl is NAME.go,
// plugin_test.go.tmpl NAME_test.go, main.go.tmpl cmd/main.go, others
// keep their name without .tmpl.
func renderScaffold(d scaffoldData) ([]scaffoldFile, error) {
	base := "scaffold/" + d.Kind
	ents, err := fs.ReadDir(scaffoldFS, base)
	if err != nil {
		return nil, err
	}
	var out []scaffoldFile
	for _, e := range ents {
		src, err := fs.ReadFile(scaffoldFS, base+"/"+e.Name())
		if err != nil {
			return nil, err
		}
		t, err := template.New(e.Name()).Option("missingkey=error").Parse(string(src))
		if err != nil {
			return nil, fmt.Errorf("scaffold template %s: %w", e.Name(), err)
		}
		var buf bytes.Buffer
		if err := t.Execute(&buf, d); err != nil {
			return nil, fmt.Errorf("scaffold template %s: %w", e.Name(), err)
		}
		name := strings.TrimSuffix(e.Name(), ".tmpl")
		switch name {
		case "plugin.go":
			name = d.Name + ".go"
		case "plugin_test.go":
			name = d.Name + "_test.go"
		case "main.go":
			name = "cmd/main.go"
		}
		data := buf.Bytes()
		if strings.HasSuffix(name, ".go") {
			if data, err = format.Source(data); err != nil {
				return nil, fmt.Errorf("scaffold template %s does not give valid Go: %w", e.Name(), err)
			}
		}
		out = append(out, scaffoldFile{path: name, data: data})
	}
	return out, nil
}

// findModule returns the root and module path of the Go module holding
// dir (which need not exist yet).
func findModule(dir string) (root, module string, err error) {
	for d := dir; ; d = filepath.Dir(d) {
		f, err := os.Open(filepath.Join(d, "go.mod"))
		if err == nil {
			defer f.Close()
			sc := bufio.NewScanner(f)
			for sc.Scan() {
				if rest, ok := strings.CutPrefix(strings.TrimSpace(sc.Text()), "module "); ok {
					return d, strings.Trim(strings.TrimSpace(rest), `"`), nil
				}
			}
			return "", "", fmt.Errorf("%s/go.mod has no module line", d)
		}
		if filepath.Dir(d) == d {
			return "", "", errors.New("not inside a Go module: run attnlab plugin new from the attnlab repository, whose go.mod the plugin is built with")
		}
	}
}
