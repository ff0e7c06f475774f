package cli

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// Every kind's templates render to gofmt'ed Go with the expected files.
func TestScaffoldRenders(t *testing.T) {
	for kind := range scaffoldKinds {
		d := scaffoldData{Kind: kind, Name: "my-thing", Package: "mything", Module: "example.com/m", Dir: "plugins/" + kind + "/my-thing",
			ImportPath: "example.com/m/plugins/" + kind + "/my-thing", Binary: kind + "-my-thing", EnvVar: "X"}
		files, err := renderScaffold(d)
		if err != nil {
			t.Fatalf("%s: %v", kind, err)
		}
		var names []string
		for _, f := range files {
			names = append(names, f.path)
			if strings.Contains(string(f.data), "{{") || strings.Contains(string(f.data), "<no value>") {
				t.Errorf("%s/%s: a template action was left unexpanded", kind, f.path)
			}
		}
		if got, want := strings.Join(names, " "), "doc.go cmd/main.go my-thing.go my-thing_test.go"; got != want {
			t.Errorf("%s: files %s, want %s", kind, got, want)
		}
	}
}

func TestScaffoldBadInput(t *testing.T) {
	root := moduleRoot()
	existing := filepath.Join(root, "plugins") // plugins/attention/full exists
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"plugin", "new", "attention", "full", "--dir", existing}, "already exists: plugin new never overwrites"},
		{[]string{"plugin", "new", "layer", "x"}, `unknown plugin kind "layer": want attention, arch or objective`},
		{[]string{"plugin", "new", "attention", "My-Attn"}, `plugin name "My-Attn": want lowercase letters, digits and single dashes`},
		{[]string{"plugin", "new", "attention", "1attn"}, "starting with a letter"},
		{[]string{"plugin", "new", "attention", "a--b"}, "single dashes"},
		{[]string{"plugin", "new", "attention", "attn-"}, "single dashes"},
		{[]string{"plugin", "new", "attention", "go_to"}, "lowercase letters, digits"},
		{[]string{"plugin", "new", "objective", "func"}, `Go package name "func" is a Go keyword`},
		{[]string{"plugin", "new", "arch", "fine", "--dir", t.TempDir()}, "not inside a Go module"},
		{[]string{"plugin", "new", "arch"}, "accepts 2 arg(s)"},
	} {
		_, errOut, code := run(c.args...)
		if code != ExitBadInput || !strings.Contains(errOut, c.want) {
			t.Errorf("attnlab %s: exit %d, stderr %q; want exit 2 mentioning %q", strings.Join(c.args, " "), code, errOut, c.want)
		}
	}
}

// gocmd runs the go command in the module root.
func gocmd(t *testing.T, args ...string) {
	t.Helper()
	cmd := exec.Command("go", args...)
	cmd.Dir = moduleRoot()
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("go %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// A scaffold of each kind, written inside the module, builds, vets and
// passes its own tests (in-process and as a plugin process).
func TestScaffoldBuildsAndPasses(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and tests three generated plugins")
	}
	var r [4]byte
	rand.Read(r[:])
	rel := "plugins/zz-scaffoldtest-" + hex.EncodeToString(r[:])
	dir := filepath.Join(moduleRoot(), rel)
	t.Cleanup(func() { os.RemoveAll(dir) })
	for _, k := range [][2]string{{"attention", "my-attn"}, {"arch", "tiny-lm"}, {"objective", "arith-seq"}} {
		out, errOut, code := run("plugin", "new", k[0], k[1], "--dir", dir)
		if code != ExitOK {
			t.Fatalf("plugin new %s %s: exit %d: %s", k[0], k[1], code, errOut)
		}
		for _, f := range []string{k[1] + ".go", k[1] + "_test.go", "doc.go", "cmd/main.go"} {
			if !strings.Contains(out, filepath.Join(dir, k[0], k[1], f)) {
				t.Errorf("plugin new %s %s did not report writing %s:\n%s", k[0], k[1], f, out)
			}
		}
		if !strings.Contains(out, "go test ./"+rel+"/"+k[0]+"/"+k[1]+"/") {
			t.Errorf("plugin new %s %s: no next step:\n%s", k[0], k[1], out)
		}
	}
	// A second scaffold of the same name is refused and changes nothing.
	if _, errOut, code := run("plugin", "new", "attention", "my-attn", "--dir", dir); code != ExitBadInput || !strings.Contains(errOut, "already exists") {
		t.Errorf("scaffolding over an existing plugin: exit %d, %s", code, errOut)
	}
	pkgs := "./" + rel + "/..."
	gocmd(t, "build", pkgs)
	gocmd(t, "vet", pkgs)
	gocmd(t, "test", "-count=1", pkgs)
}
