package harness

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/attnlab/attnlab/plugins/builtin"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// The tests build real plugin binaries once: the three built-in ones and
// the deliberately broken ones in testdata/plugins.
var (
	buildOnce sync.Once
	buildDir  string
	buildErr  error
)

func moduleRoot() string {
	_, file, _, _ := runtime.Caller(0)
	return filepath.Dir(filepath.Dir(file))
}

// pluginDir returns a directory holding freshly built plugins, locked.
func pluginDir(t testing.TB) string {
	t.Helper()
	buildOnce.Do(func() {
		buildDir, buildErr = os.MkdirTemp("", "attnlab-test-plugins-")
		if buildErr != nil {
			return
		}
		targets := map[string]string{
			"attention-full":      "./plugins/attention/full/cmd",
			"arch-transformer":    "./plugins/arch/transformer/cmd",
			"objective-causal-lm": "./plugins/objective/causal-lm/cmd",
			"attention-panic":     "./harness/testdata/plugins/panic",
			"attention-crash":     "./harness/testdata/plugins/crash",
			"attention-hang":      "./harness/testdata/plugins/hang",
			"attention-stdout":    "./harness/testdata/plugins/stdout",
			"attention-version2":  "./harness/testdata/plugins/version2",
		}
		for name, pkg := range targets {
			cmd := exec.Command("go", "build", "-o", filepath.Join(buildDir, name), pkg)
			cmd.Dir = moduleRoot()
			if out, err := cmd.CombinedOutput(); err != nil {
				buildErr = fmt.Errorf("building %s: %v\n%s", pkg, err, out)
				return
			}
		}
		ps, err := Discover(buildDir)
		if err != nil {
			buildErr = err
			return
		}
		buildErr = WriteLock(buildDir, ps)
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return buildDir
}

func TestMain(m *testing.M) {
	if os.Getenv(harnessChildEnv) != "" {
		harnessChild()
		return
	}
	code := m.Run()
	if buildDir != "" {
		os.RemoveAll(buildDir)
	}
	os.Exit(code)
}

// tinySpec is a small copy-task trial that takes a second or so.
func tinySpec(t testing.TB, l Launcher, attention string, steps int) TrialSpec {
	t.Helper()
	spec := TrialSpec{
		ID: "test", Seed: 7,
		Objective:    ComponentSpec{Plugin: "causal-lm"},
		Architecture: ComponentSpec{Plugin: "transformer"},
		Attention:    ComponentSpec{Plugin: attention},
		Train: Train{Steps: steps, Batch: 4, LR: 3e-3, MinLR: 3e-4, Warmup: 2, Schedule: "cosine",
			Optimizer: sdk.DefaultOptimizer(), Clip: 1, EvalEvery: 0, EvalBatches: 1, Threads: 1, CallTimeout: 20 * time.Second},
	}
	raw := map[*ComponentSpec]map[string]any{
		&spec.Objective:    {"dataset": "copy", "seq_len": 32, "copy_vocab": 16},
		&spec.Architecture: {"layers": 2, "d_model": 32, "heads": 4},
		&spec.Attention:    {},
	}
	kinds := map[*ComponentSpec]sdk.Kind{&spec.Objective: sdk.KindObjective, &spec.Architecture: sdk.KindArchitecture, &spec.Attention: sdk.KindAttention}
	for c, r := range raw {
		d, err := l.Describe(kinds[c], c.Plugin)
		if err != nil {
			t.Fatal(err)
		}
		if c.Config, err = d.Resolve(r); err != nil {
			t.Fatal(err)
		}
	}
	return spec
}

func inProcess() *InProcess {
	return &InProcess{Registry: Registry{Attention: builtin.Attention, Architecture: builtin.Architecture, Objective: builtin.Objective}}
}

func pluginLauncher(t testing.TB) *Plugins {
	host, err := NewHost(pluginDir(t), hclog.NewNullLogger())
	if err != nil {
		t.Fatal(err)
	}
	return &Plugins{Host: host}
}

// The same trial in-process and through plugins gives bit-identical
// losses.
func TestInProcessAndPluginsBitIdentical(t *testing.T) {
	var losses [2][]float64
	for i, l := range []Launcher{inProcess(), pluginLauncher(t)} {
		spec := tinySpec(t, l, "full", 20)
		res := Run(context.Background(), l, spec, ObserverFunc(func(step int, key string, v float64) {
			if key == "train/loss" {
				losses[i] = append(losses[i], v)
			}
		}), nil)
		if res.Status != StatusFinished {
			t.Fatalf("launcher %T: %s: %v", l, res.Status, res.Err)
		}
	}
	if len(losses[0]) != 20 || len(losses[1]) != 20 {
		t.Fatalf("got %d and %d losses", len(losses[0]), len(losses[1]))
	}
	for i := range losses[0] {
		if losses[0][i] != losses[1][i] {
			t.Fatalf("step %d: in-process loss %v, plugins %v", i, losses[0][i], losses[1][i])
		}
	}
	if losses[0][19] >= losses[0][0] {
		t.Errorf("loss did not fall: %v -> %v", losses[0][0], losses[0][19])
	}
}

// ourProcesses lists live processes whose executable is in dir.
func ourProcesses(dir string) []string {
	var out []string
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		exe, err := os.Readlink(filepath.Join("/proc", e.Name(), "exe"))
		if err == nil && strings.HasPrefix(exe, dir+"/") && alive(atoi(e.Name())) {
			out = append(out, e.Name()+" "+exe)
		}
	}
	return out
}

func atoi(s string) int {
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return -1
		}
		n = n*10 + int(c-'0')
	}
	return n
}

func waitNoProcesses(t *testing.T, dir string, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for {
		left := ourProcesses(dir)
		if len(left) == 0 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("plugin processes left behind: %v", left)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// Each broken plugin fails its own trial with a clear reason; the harness
// goes on, and no process or shared memory is left behind.
func TestBrokenPlugins(t *testing.T) {
	dir := pluginDir(t)
	l := pluginLauncher(t)
	l.ShmRoot = t.TempDir()
	base := tinySpec(t, l, "full", 3)
	for _, c := range []struct{ plugin, want string }{
		{"panic", "panic: assignment to entry in nil map"},
		{"crash", `attention plugin "crash": Forward layer 0:`},
		{"hang", "deadline exceeded"},
		{"stdout", "wrote to stdout before its handshake"},
		{"version2", "speaks another protocol version"},
	} {
		t.Run(c.plugin, func(t *testing.T) {
			spec := base
			spec.Attention = ComponentSpec{Plugin: c.plugin, Config: base.Attention.Config}
			spec.Train.CallTimeout = 2 * time.Second
			res := Run(context.Background(), l, spec, nil, nil)
			if res.Status != StatusFailed || res.Err == nil || !strings.Contains(res.Err.Error(), c.want) {
				t.Fatalf("status %s, error %v; want failed with %q", res.Status, res.Err, c.want)
			}
			waitNoProcesses(t, dir, 5*time.Second)
			if left := shmDirs(l.ShmRoot); len(left) > 0 {
				t.Fatalf("shared memory left behind: %v", left)
			}
		})
	}
	// And a good trial still runs afterwards.
	if res := Run(context.Background(), l, base, nil, nil); res.Status != StatusFinished {
		t.Fatalf("after the broken plugins: %s %v", res.Status, res.Err)
	}
	waitNoProcesses(t, dir, 5*time.Second)
}

func TestWrongChecksumRefused(t *testing.T) {
	src := pluginDir(t)
	dir := t.TempDir()
	for _, name := range []string{"attention-full", "arch-transformer", "objective-causal-lm"} {
		b, err := os.ReadFile(filepath.Join(src, name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	ps, _ := Discover(dir)
	if err := WriteLock(dir, ps); err != nil {
		t.Fatal(err)
	}
	// Change the binary after locking.
	f, _ := os.OpenFile(filepath.Join(dir, "attention-full"), os.O_APPEND|os.O_WRONLY, 0)
	f.Write([]byte("tampered"))
	f.Close()
	host, err := NewHost(dir, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, err = host.Start(sdk.KindAttention, "full", "")
	if err == nil || !strings.Contains(err.Error(), "checksum no longer matches the lock file") {
		t.Fatalf("tampered plugin: %v", err)
	}
	if probs := Verify(mustDiscover(t, dir), mustLock(t, dir)); len(probs) != 1 || !strings.Contains(probs[0], "attention-full changed since it was locked") {
		t.Fatalf("Verify: %v", probs)
	}
	waitNoProcesses(t, dir, 5*time.Second)
}

func mustDiscover(t *testing.T, dir string) []PluginFile {
	ps, err := Discover(dir)
	if err != nil {
		t.Fatal(err)
	}
	return ps
}

func mustLock(t *testing.T, dir string) Lock {
	l, err := ReadLock(dir)
	if err != nil {
		t.Fatal(err)
	}
	return l
}

// If the harness dies, even by SIGKILL, its plugins exit on their own.
// The child harness gets the plugin directory and a directory for its
// plugins' sockets (the test's, removed with it).
const (
	harnessChildEnv   = "ATTNLAB_HARNESS_TEST_CHILD"
	harnessSocketsEnv = "ATTNLAB_HARNESS_TEST_SOCKETS"
)

// harnessChild starts three plugins, prints their pids, and waits to be
// killed.
func harnessChild() {
	host, err := NewHost(os.Getenv(harnessChildEnv), nil)
	if err != nil {
		fmt.Println("error:", err)
		os.Exit(1)
	}
	for _, k := range []struct {
		kind sdk.Kind
		name string
	}{{sdk.KindAttention, "full"}, {sdk.KindArchitecture, "transformer"}, {sdk.KindObjective, "causal-lm"}} {
		p, err := host.Start(k.kind, k.name, os.Getenv(harnessSocketsEnv))
		if err != nil {
			fmt.Println("error:", err)
			os.Exit(1)
		}
		fmt.Println(p.Pid)
	}
	fmt.Println("ready")
	select {}
}

func TestPluginsExitWhenHarnessIsKilled(t *testing.T) {
	dir := pluginDir(t)
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), harnessChildEnv+"="+dir, harnessSocketsEnv+"="+t.TempDir())
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var pids []int
	buf := make([]byte, 4096)
	var text string
	deadline := time.Now().Add(30 * time.Second)
	for !strings.Contains(text, "ready") && time.Now().Before(deadline) {
		n, err := out.Read(buf)
		text += string(buf[:n])
		if err != nil {
			break
		}
	}
	if !strings.Contains(text, "ready") {
		cmd.Process.Kill()
		t.Fatalf("child harness did not start its plugins: %q", text)
	}
	for _, line := range strings.Fields(text) {
		if n := atoi(line); n > 0 {
			pids = append(pids, n)
		}
	}
	if len(pids) != 3 {
		t.Fatalf("pids %v from %q", pids, text)
	}
	cmd.Process.Kill() // SIGKILL: no chance to clean up
	cmd.Wait()
	deadline = time.Now().Add(5 * time.Second)
	for _, pid := range pids {
		for alive(pid) {
			if time.Now().After(deadline) {
				t.Fatalf("plugin %d still running 5s after the harness was killed", pid)
			}
			time.Sleep(20 * time.Millisecond)
		}
	}
}
