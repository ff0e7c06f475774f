package cli

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/attnlab/attnlab/harness"
)

// Tests that run attnlab as a real process, or the plugins as real
// plugins, share one build of the attnlab binary and the built-in
// plugins, made on first use and removed by TestMain.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// moduleRoot is the repository root (this file is harness/cli/...).
func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(filepath.Dir(file)))
}

// builtBinaries returns the attnlab binary and a locked plugins directory
// holding the built-in plugins.
func builtBinaries(t *testing.T) (attnlab, plugins string) {
	t.Helper()
	buildOnce.Do(func() {
		if buildDir, buildErr = os.MkdirTemp("", "attnlab-cli-test-"); buildErr != nil {
			return
		}
		targets := [][2]string{
			{"attnlab", "./harness/cmd/attnlab"},
			{"plugins/attention-full", "./plugins/attention/full/cmd"},
			{"plugins/arch-transformer", "./plugins/arch/transformer/cmd"},
			{"plugins/objective-causal-lm", "./plugins/objective/causal-lm/cmd"},
		}
		for _, tg := range targets {
			cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, tg[0]), tg[1])
			cmd.Dir = moduleRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("building %s: %v\n%s", tg[1], err, out)
				return
			}
		}
		dir := filepath.Join(buildDir, "plugins")
		ps, err := harness.Discover(dir)
		if err != nil {
			buildErr = err
			return
		}
		buildErr = harness.WriteLock(dir, ps)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return filepath.Join(buildDir, "attnlab"), filepath.Join(buildDir, "plugins")
}

// processesIn lists the live processes whose executable is in dir.
func processesIn(dir string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err != nil || !strings.HasPrefix(exe, dir+"/") {
			continue
		}
		stat, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		s := string(stat)
		if i := strings.LastIndexByte(s, ')'); err == nil && i >= 0 && i+2 < len(s) && (s[i+2] == 'Z' || s[i+2] == 'X') {
			continue // a zombie has exited; only its parent's wait is missing
		}
		out = append(out, e.Name()+" "+exe)
	}
	return out
}
