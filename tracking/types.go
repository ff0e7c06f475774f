package tracking

import (
	"errors"
	"fmt"
	"time"
)

// Status is where a trial is in its lifecycle (see the package doc).
type Status string

// The trial statuses. Queued and running are active; the others are
// terminal and are only left again by StartTrial (a re-run).
const (
	StatusQueued   Status = "queued"   // recorded, not started yet
	StatusRunning  Status = "running"  // started; heartbeat_at is kept fresh
	StatusFinished Status = "finished" // ran to completion
	StatusFailed   Status = "failed"   // an error stopped it (error says why)
	StatusDiverged Status = "diverged" // loss became NaN or Inf
	StatusPruned   Status = "pruned"   // stopped early by the scheduler
	StatusKilled   Status = "killed"   // interrupted (Ctrl-C, timeout)
)

// Statuses lists every status in lifecycle order.
var Statuses = []Status{StatusQueued, StatusRunning, StatusFinished,
	StatusFailed, StatusDiverged, StatusPruned, StatusKilled}

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	for _, v := range Statuses {
		if s == v {
			return true
		}
	}
	return false
}

// Terminal reports whether s ends a run (every valid status but queued and
// running).
func (s Status) Terminal() bool {
	return s.Valid() && s != StatusQueued && s != StatusRunning
}

// Well-known summary keys. The views' loss and accuracy columns read them;
// other summary keys are free-form.
const (
	SummaryLoss     = "loss"     // final training or evaluation loss
	SummaryAccuracy = "accuracy" // final evaluation accuracy in [0, 1]
)

// Well-known environment keys (SetEnvironment). Plugin checksums use
// PluginChecksumKey.
const (
	EnvGitCommit      = "git.commit"      // commit hash of the attnlab checkout
	EnvGitDirty       = "git.dirty"       // "true" when the tree had local changes
	EnvGoVersion      = "go.version"      // runtime.Version()
	EnvOSArch         = "os.arch"         // GOOS/GOARCH, e.g. linux/amd64
	EnvCPUModel       = "cpu.model"       // model name from /proc/cpuinfo
	EnvAttnlabVersion = "attnlab.version" // version string of the binary
)

// PluginChecksumKey is the environment key under which the sha256 (hex) of
// the named plugin binary is recorded.
func PluginChecksumKey(plugin string) string { return "plugin." + plugin + ".sha256" }

// ErrNotFound is wrapped by read errors for a missing experiment or trial.
var ErrNotFound = errors.New("not found")

// ErrClosed is returned by operations on a closed Store.
var ErrClosed = errors.New("store is closed")

// ErrBadTransition is wrapped by control operations asked to move a trial
// along an edge its lifecycle does not have (finishing a trial that is not
// active, a heartbeat for a trial that is not running).
var ErrBadTransition = errors.New("invalid status transition")

// Experiment is one row of the experiments table.
type Experiment struct {
	ID         int64
	Name       string
	ConfigYAML string // the experiment config as the user wrote it
	ConfigHash string // hash of the resolved config, chosen by the caller
	CreatedAt  time.Time
}

// Trial is one trial with its parameters and summaries.
type Trial struct {
	ID           string // the trial identity hash given by the caller
	ExperimentID int64  // the experiment that first recorded the trial
	Seed         int64
	ConfigJSON   string // the fully resolved trial config
	Status       Status
	Error        string // why a trial failed, diverged, was pruned or killed
	Attempt      int    // 0 while never started; StartTrial adds one
	CreatedAt    time.Time
	StartedAt    time.Time // zero until started
	FinishedAt   time.Time // zero until a terminal status
	HeartbeatAt  time.Time // zero until started
	Host         string    // host name of the process that last started it
	PID          int       // its process id
	Params       map[string]string
	Summaries    map[string]float64 // NaN where NaN was recorded
}

// Point is one metric value.
type Point struct {
	Step  int
	Value float64   // NaN where NaN was logged (stored as NULL)
	Time  time.Time // when Log was called, millisecond resolution
}

// millis is the stored form of a time: Unix milliseconds; the zero time is
// NULL.
func millis(t time.Time) any {
	if t.IsZero() {
		return nil
	}
	return t.UnixMilli()
}

func fromMillis(ms int64, valid bool) time.Time {
	if !valid {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

func checkStatus(s Status) error {
	if !s.Valid() {
		return fmt.Errorf("unknown status %q (want one of %v)", s, Statuses)
	}
	return nil
}
