package attnlab

import (
	"os/exec"
	"strings"
	"testing"
)

// The repository-wide checks are ordinary tests, so `make test` keeps the
// tree formatted, vetted and tidy.

func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	if _, err := exec.LookPath(name); err != nil {
		t.Fatalf("%s is not installed: %v", name, err)
	}
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %s: %v\n%s", name, strings.Join(args, " "), err, out)
	}
	return string(out)
}

func TestGofmt(t *testing.T) {
	files := strings.Fields(run(t, "git", "ls-files", "*.go"))
	if len(files) == 0 {
		t.Skip("not a git checkout")
	}
	if out := run(t, "gofmt", append([]string{"-l"}, files...)...); strings.TrimSpace(out) != "" {
		t.Errorf("gofmt would change these files (run make fmt):\n%s", out)
	}
}

func TestGoVet(t *testing.T) {
	if testing.Short() {
		t.Skip("go vet in -short mode")
	}
	run(t, "go", "vet", "./...")
}

func TestGoModTidy(t *testing.T) {
	if out := run(t, "go", "mod", "tidy", "-diff"); strings.TrimSpace(out) != "" {
		t.Errorf("go.mod/go.sum are not tidy (run go mod tidy):\n%s", out)
	}
}
