package harness

import (
	"context"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"syscall"
	"time"

	"github.com/attnlab/attnlab/kernels/parallel"
	"github.com/attnlab/attnlab/plugins/sdk"
)

// Components is one trial's set of live components.
type Components struct {
	Objective    sdk.Objective
	Architecture sdk.Architecture
	Attention    sdk.Attention
	// PeakRSS returns the peak resident memory, in bytes, of each process
	// that runs a component ("attention", "arch", "objective"; or
	// "harness" when they run in-process).
	PeakRSS func() map[string]int64
	// Close stops the components and frees the trial's resources.
	Close func()
}

// Launcher provides the components of a trial.
type Launcher interface {
	// Describe returns the description of plugin name of the given kind.
	Describe(kind sdk.Kind, name string) (sdk.Description, error)
	// Launch starts fresh components for spec.
	Launch(ctx context.Context, spec TrialSpec) (*Components, error)
}

// Registry holds in-process component constructors by name.
type Registry struct {
	Attention    map[string]func() sdk.Attention
	Architecture map[string]func() sdk.Architecture
	Objective    map[string]func() sdk.Objective
}

// InProcess runs components inside the harness process: for tests and as
// the baseline the process boundary is measured against. Only one
// in-process trial runs at a time (the kernels' thread setting is global).
type InProcess struct {
	Registry Registry
}

var inProcessMu sync.Mutex

func (l *InProcess) construct(kind sdk.Kind, name string) (sdk.Component, error) {
	var names []string
	switch kind {
	case sdk.KindAttention:
		if f, ok := l.Registry.Attention[name]; ok {
			return f(), nil
		}
		names = slices.Sorted(maps.Keys(l.Registry.Attention))
	case sdk.KindArchitecture:
		if f, ok := l.Registry.Architecture[name]; ok {
			return f(), nil
		}
		names = slices.Sorted(maps.Keys(l.Registry.Architecture))
	case sdk.KindObjective:
		if f, ok := l.Registry.Objective[name]; ok {
			return f(), nil
		}
		names = slices.Sorted(maps.Keys(l.Registry.Objective))
	}
	return nil, &UnknownPluginError{Kind: kind, Name: name, Available: names}
}

// Describe implements Launcher.
func (l *InProcess) Describe(kind sdk.Kind, name string) (sdk.Description, error) {
	c, err := l.construct(kind, name)
	if err != nil {
		return sdk.Description{}, err
	}
	return c.Describe(), nil
}

// Launch implements Launcher.
func (l *InProcess) Launch(ctx context.Context, spec TrialSpec) (*Components, error) {
	obj, err := l.construct(sdk.KindObjective, spec.Objective.Plugin)
	if err != nil {
		return nil, err
	}
	arch, err := l.construct(sdk.KindArchitecture, spec.Architecture.Plugin)
	if err != nil {
		return nil, err
	}
	attn, err := l.construct(sdk.KindAttention, spec.Attention.Plugin)
	if err != nil {
		return nil, err
	}
	inProcessMu.Lock()
	prev := parallel.SetThreads(threads(spec.Train.Threads))
	return &Components{
		Objective: obj.(sdk.Objective), Architecture: arch.(sdk.Architecture), Attention: attn.(sdk.Attention),
		PeakRSS: func() map[string]int64 { return map[string]int64{"harness": peakRSS(os.Getpid())} },
		Close: func() {
			parallel.SetThreads(prev)
			inProcessMu.Unlock()
		},
	}, nil
}

func threads(n int) int {
	if n <= 0 {
		return parallel.Threads()
	}
	return n
}

// Plugins runs each component in a plugin process of its own, started
// fresh for every trial.
type Plugins struct {
	Host *Host
	// ShmRoot is where trial shared-memory directories are made (default
	// /dev/shm, falling back to the temporary directory).
	ShmRoot string

	descMu sync.Mutex
	descs  map[string]sdk.Description
}

// Describe implements Launcher: it starts the plugin once, asks, and
// stops it; answers are cached.
func (l *Plugins) Describe(kind sdk.Kind, name string) (sdk.Description, error) {
	l.descMu.Lock()
	defer l.descMu.Unlock()
	id := string(kind) + "-" + name
	if d, ok := l.descs[id]; ok {
		return d, nil
	}
	p, err := l.Host.Start(kind, name, "")
	if err != nil {
		return sdk.Description{}, err
	}
	defer p.Kill()
	sess, err := sdk.NewSession(context.Background(), os.TempDir(), 1, 30*time.Second)
	if err != nil {
		return sdk.Description{}, err
	}
	defer sess.Close()
	var d sdk.Description
	switch kind {
	case sdk.KindAttention:
		d = sdk.NewAttentionClient(p.Conn, sess, p.Endpoint).Describe()
	case sdk.KindArchitecture:
		d = sdk.NewArchitectureClient(p.Conn, sess).Describe()
	case sdk.KindObjective:
		d = sdk.NewObjectiveClient(p.Conn, sess).Describe()
	}
	if d.Kind != kind || d.Name != name {
		return sdk.Description{}, fmt.Errorf("plugin %s describes itself as %s %q (%s)", id, d.Kind, d.Name, d.Version)
	}
	if l.descs == nil {
		l.descs = map[string]sdk.Description{}
	}
	l.descs[id] = d
	return d, nil
}

func (l *Plugins) shmRoot() string {
	if l.ShmRoot != "" {
		return l.ShmRoot
	}
	if st, err := os.Stat("/dev/shm"); err == nil && st.IsDir() {
		return "/dev/shm"
	}
	return os.TempDir()
}

// Launch implements Launcher.
func (l *Plugins) Launch(ctx context.Context, spec TrialSpec) (*Components, error) {
	removeOrphanedTrialDirs(l.shmRoot())
	dir, err := os.MkdirTemp(l.shmRoot(), "attnlab-trial-")
	if err != nil {
		return nil, fmt.Errorf("creating the trial's shared-memory directory: %w", err)
	}
	lock, err := lockTrialDir(dir)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("locking the trial's shared-memory directory: %w", err)
	}
	var procs []*Process
	cleanup := func() {
		for _, p := range procs {
			p.Kill()
		}
		os.RemoveAll(dir)
		lock.Close()
	}
	start := func(kind sdk.Kind, name string) (*Process, error) {
		p, err := l.Host.Start(kind, name, dir)
		if err == nil {
			procs = append(procs, p)
		}
		return p, err
	}
	po, err := start(sdk.KindObjective, spec.Objective.Plugin)
	if err != nil {
		cleanup()
		return nil, err
	}
	pa, err := start(sdk.KindArchitecture, spec.Architecture.Plugin)
	if err != nil {
		cleanup()
		return nil, err
	}
	pt, err := start(sdk.KindAttention, spec.Attention.Plugin)
	if err != nil {
		cleanup()
		return nil, err
	}
	callTimeout := spec.Train.CallTimeout
	if callTimeout == 0 {
		callTimeout = 5 * time.Minute
	}
	sess, err := sdk.NewSession(ctx, dir, threads(spec.Train.Threads), callTimeout)
	if err != nil {
		cleanup()
		return nil, err
	}
	c := &Components{
		Objective:    sdk.NewObjectiveClient(po.Conn, sess),
		Architecture: sdk.NewArchitectureClient(pa.Conn, sess),
		Attention:    sdk.NewAttentionClient(pt.Conn, sess, pt.Endpoint),
	}
	c.PeakRSS = func() map[string]int64 {
		return map[string]int64{"objective": po.SampleRSS(), "arch": pa.SampleRSS(), "attention": pt.SampleRSS()}
	}
	c.Close = func() {
		cleanup()
		sess.Close()
	}
	return c, nil
}

// A trial's shared-memory directory holds a lock file that its harness
// keeps locked (flock) for as long as the trial runs. The kernel drops the
// lock when the harness exits, however it exits, so a directory whose lock
// another process can take is the leftover of a harness killed mid-trial
// (its plugins exit then too, without removing their segments): tensors
// that would otherwise hold memory in tmpfs until the next reboot. Every
// launch removes such directories first.
const trialLockName = ".attnlab-trial.lock"

// lockTrialDir creates dir's lock file already locked: it is locked under
// a temporary name and then renamed, so that no other harness can find it
// unlocked in between.
func lockTrialDir(dir string) (*os.File, error) {
	tmp := filepath.Join(dir, trialLockName+".new")
	f, err := os.OpenFile(tmp, os.O_CREATE|os.O_EXCL|os.O_RDWR, 0o600)
	if err != nil {
		return nil, err
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, err
	}
	if err := os.Rename(tmp, filepath.Join(dir, trialLockName)); err != nil {
		f.Close()
		return nil, err
	}
	return f, nil
}

// removeOrphanedTrialDirs removes the trial directories under root whose
// lock file no process holds. Directories without a lock file (being
// created, or made by a harness from before lock files) are left alone.
func removeOrphanedTrialDirs(root string) {
	for _, d := range shmDirs(root) {
		f, err := os.Open(filepath.Join(d, trialLockName))
		if err != nil {
			continue
		}
		if syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB) == nil {
			os.RemoveAll(d)
		}
		f.Close()
	}
}

// shmDirs lists leftover trial directories under root (for tests).
func shmDirs(root string) []string {
	m, _ := filepath.Glob(filepath.Join(root, "attnlab-trial-*"))
	return m
}
