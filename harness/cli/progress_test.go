package cli

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/harness"
)

func fakeTrial(index, steps int, id string) experiments.Trial {
	t := experiments.Trial{Index: index, ID: id, Seed: 1}
	t.Train.Steps = steps
	t.Attention.Plugin = "full"
	return t
}

// clock is a fake time source that tests move by hand.
type clock struct{ t time.Time }

func (c *clock) now() time.Time          { return c.t }
func (c *clock) advance(d time.Duration) { c.t = c.t.Add(d) }

func TestProgressState(t *testing.T) {
	c := &clock{t: time.Unix(1000, 0)}
	s := newProgressState(3, c.now)
	a, b := fakeTrial(0, 10, "aaaa1111"), fakeTrial(1, 10, "bbbb2222")
	if got := s.sweepText(); got != "0/3 trials, ETA ?" {
		t.Errorf("before any trial: %q", got)
	}
	s.started(a)
	if got := s.trialText(a.ID); got != "step 0/10  ETA ?" {
		t.Errorf("trial before its first step: %q", got)
	}
	for step := range 5 {
		c.advance(time.Second)
		if !s.metric(a, step, "train/loss", 2.5-float64(step)/10) {
			t.Fatal("train/loss did not advance the step")
		}
		s.metric(a, step, "train/accuracy", 0.5)
	}
	s.metric(a, 4, "eval/loss", 2.25)
	if got, want := s.trialText(a.ID), "step 5/10  loss 2.1000  eval 2.2500  ETA 5s"; got != want {
		t.Errorf("trial text %q, want %q", got, want)
	}
	// No trial has ended: the running one's 5 s left, then two more
	// trials of 10 s each, one at a time.
	if got, want := s.sweepText(), "0/3 trials, 1 running, ETA 25s"; got != want {
		t.Errorf("sweep text %q, want %q", got, want)
	}
	c.advance(5 * time.Second)
	s.finished(a)
	s.skipped(b)
	if s.trialText(a.ID) != "" {
		t.Error("an ended trial still has text")
	}
	// One trial ran in 10 s: one left takes 10 s.
	if got, want := s.sweepText(), "2/3 trials, ETA 10s"; got != want {
		t.Errorf("sweep text %q, want %q", got, want)
	}
	// A retry makes a trial not done again.
	s.started(a)
	if got := s.doneCount(); got != 1 {
		t.Errorf("after a retry started: %d done, want 1", got)
	}
	if s.metric(fakeTrial(2, 10, "cccc"), 0, "train/loss", 1) {
		t.Error("a metric of a trial that is not running advanced it")
	}
}

func TestShowDuration(t *testing.T) {
	for d, want := range map[time.Duration]string{
		1234 * time.Millisecond: "1.2s", 75 * time.Second: "1m15s", 3*time.Hour + 400*time.Millisecond: "3h0m0s", 0: "0s",
	} {
		if got := showDuration(d); got != want {
			t.Errorf("showDuration(%v) = %q, want %q", d, got, want)
		}
	}
}

// The bars, drawn into a buffer as if it were a terminal, show the sweep,
// the trials and the same lines as the plain reporter.
func TestProgressReporterDraws(t *testing.T) {
	var buf bytes.Buffer
	r := newProgressReporter(&buf, 2, true)
	a, b := fakeTrial(0, 4, "aaaa1111cccc"), fakeTrial(1, 4, "bbbb2222dddd")
	r.TrialSkipped(b, "finished in an earlier run")
	r.TrialStarted(a, 1, 2)
	for step := range 4 {
		r.Metric(a, step, "train/loss", 3-float64(step)/4)
		time.Sleep(60 * time.Millisecond) // let a frame or two be drawn
	}
	r.TrialFinished(a, harness.Result{Status: harness.StatusFinished, Steps: 4, Summaries: map[string]float64{"eval/loss": 1.5}})
	r.Close()
	out := buf.String()
	for _, want := range []string{
		"trial 2 bbbb2222: skipped, finished in an earlier run\n",
		"trial 1/2 aaaa1111 seed 1 attention full: started (attempt 1)\n",
		"trial 1 aaaa1111: finished, 4 steps, eval loss 1.5000",
		"sweep", "trial 1/2 aaaa1111", "loss ", "2/2 trials",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q:\n%s", want, out)
		}
	}
}

// Closing the bars of an interrupted sweep returns: running trials' bars
// are dropped rather than waited for.
func TestProgressReporterCloseWhileRunning(t *testing.T) {
	r := newProgressReporter(io.Discard, 3, true)
	r.TrialStarted(fakeTrial(0, 100, "aaaa"), 1, 3)
	r.Metric(fakeTrial(0, 100, "aaaa"), 0, "train/loss", 1)
	done := make(chan struct{})
	go func() { r.Close(); close(done) }()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Close did not return with a trial still running")
	}
}

// openPTY returns the two ends of a new pseudo-terminal.
func openPTY(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR, 0)
	if err != nil {
		t.Skipf("no pseudo-terminals here: %v", err)
	}
	fd := int(m.Fd())
	if err := unix.IoctlSetPointerInt(fd, unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Skipf("unlockpt: %v", err)
	}
	n, err := unix.IoctlGetInt(fd, unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Skipf("ptsname: %v", err)
	}
	s, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		m.Close()
		t.Skipf("opening the pty's terminal side: %v", err)
	}
	t.Cleanup(func() { s.Close(); m.Close() })
	go io.Copy(io.Discard, m) // keep the terminal from filling up
	return m, s
}

func TestReporterChoice(t *testing.T) {
	var buf bytes.Buffer
	if _, ok := newReporter(&buf, false, 2).(*lineReporter); !ok {
		t.Error("a buffer got progress bars; want plain lines")
	}
	f, err := os.Create(t.TempDir() + "/log")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, ok := newReporter(f, false, 2).(*lineReporter); !ok {
		t.Error("a file got progress bars; want plain lines")
	}
	_, tty := openPTY(t)
	if !isTerminal(tty) {
		t.Fatal("a pty is not a terminal")
	}
	if _, ok := newReporter(tty, true, 2).(*lineReporter); !ok {
		t.Error("--no-progress on a terminal got progress bars; want plain lines")
	}
	r := newReporter(tty, false, 2)
	if _, ok := r.(*progressReporter); !ok {
		t.Errorf("a terminal got %T; want progress bars", r)
	}
	r.Close()
}

// `attnlab run` with output to a buffer prints plain lines.
func TestRunPrintsLinesWhenNotATerminal(t *testing.T) {
	dir := t.TempDir()
	cfg := dir + "/tiny.yaml"
	if err := os.WriteFile(cfg, []byte(tinyYAML), 0o644); err != nil {
		t.Fatal(err)
	}
	out, errOut, code := run("run", cfg, "--db", dir+"/runs.db", "--inprocess")
	if code != ExitOK {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	if strings.Contains(out, "\x1b[") || !strings.Contains(out, "trial 1/2 ") || !strings.Contains(out, "done: 2 finished") {
		t.Errorf("output:\n%s", out)
	}
}
