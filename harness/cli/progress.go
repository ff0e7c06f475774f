package cli

// Live progress bars for `attnlab run` on a terminal: one bar for the
// sweep (trials done of the total, ETA) and one per running trial (step of
// steps, the last training and evaluation loss, ETA), with the same start,
// skip and end lines as the plain reporter printed above them.
//
// The bars are drawn by github.com/vbauerster/mpb/v8. Several bars that
// come and go while others keep running (parallel trials) need a renderer
// that owns a block of terminal lines, redraws it in place and lets other
// output scroll above it; mpb does exactly that (Progress.Write prints
// above the bars, BarRemoveOnComplete drops a finished trial's bar), is
// maintained, and pulls in only small pure-Go dependencies. Single-bar
// libraries (schollz/progressbar, cheggaaa/pb) would need that layer
// written here.
//
// What the bars say is computed by progressState, apart from the drawing,
// so that it can be tested without a terminal.

import (
	"fmt"
	"io"
	"os"
	"sync"
	"time"

	"github.com/mattn/go-isatty"
	"github.com/vbauerster/mpb/v8"
	"github.com/vbauerster/mpb/v8/decor"

	"github.com/attnlab/attnlab/experiments"
	"github.com/attnlab/attnlab/harness"
)

// sweepReporter is a harness.Reporter that must be closed when the sweep
// returns, before anything else is printed.
type sweepReporter interface {
	harness.Reporter
	Close()
}

// newReporter returns progress bars when w is a terminal and noProgress
// is false, and plain lines otherwise.
func newReporter(w io.Writer, noProgress bool, total int) sweepReporter {
	if !noProgress && isTerminal(w) {
		return newProgressReporter(w, total, false)
	}
	return newLineReporter(w)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	return ok && (isatty.IsTerminal(f.Fd()) || isatty.IsCygwinTerminal(f.Fd()))
}

// progressReporter draws the bars.
type progressReporter struct {
	st    *progressState
	p     *mpb.Progress
	sweep *mpb.Bar

	mu   sync.Mutex
	bars map[string]*mpb.Bar // running trials by id

	// The bars are redrawn on our ticks, not mpb's, so that Close can
	// draw a last frame: lines printed above the bars are only flushed
	// by a redraw, and the last one would otherwise be lost.
	refresh chan any
	stop    chan struct{}
	ticking sync.WaitGroup
}

// refreshEvery is how often the bars are redrawn.
const refreshEvery = 200 * time.Millisecond

// newProgressReporter starts drawing on w; force draws even when w is not
// a terminal (for tests).
func newProgressReporter(w io.Writer, total int, force bool) *progressReporter {
	st := newProgressState(total, time.Now)
	r := &progressReporter{st: st, bars: map[string]*mpb.Bar{}, refresh: make(chan any), stop: make(chan struct{})}
	opts := []mpb.ContainerOption{mpb.WithOutput(w), mpb.WithWidth(100), mpb.WithManualRefresh(r.refresh)}
	if force {
		opts = append(opts, mpb.ForceTTY())
	}
	r.p = mpb.New(opts...)
	r.ticking.Add(1)
	go r.tick()
	p := r.p
	r.sweep = p.AddBar(int64(max(total, 1)),
		mpb.PrependDecorators(decor.Name("sweep", decor.WC{W: 22, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return st.sweepText() })),
		mpb.BarPriority(-1), // on top
	)
	return r
}

func (r *progressReporter) TrialStarted(t experiments.Trial, attempt, total int) {
	r.st.started(t)
	r.sweep.SetCurrent(int64(r.st.doneCount()))
	id := t.ID
	label := fmt.Sprintf("trial %d/%d %s", t.Index+1, total, short(t.ID))
	bar := r.p.AddBar(int64(max(t.Train.Steps, 1)),
		mpb.PrependDecorators(decor.Name(label, decor.WC{W: 22, C: decor.DindentRight})),
		mpb.AppendDecorators(decor.Any(func(decor.Statistics) string { return r.st.trialText(id) })),
		mpb.BarRemoveOnComplete(),
		mpb.BarPriority(t.Index),
	)
	r.mu.Lock()
	if old := r.bars[id]; old != nil { // a retry
		old.Abort(true)
	}
	r.bars[id] = bar
	r.mu.Unlock()
	r.p.Write([]byte(startedLine(t, attempt, total)))
}

func (r *progressReporter) TrialSkipped(t experiments.Trial, why string) {
	r.st.skipped(t)
	r.sweep.SetCurrent(int64(r.st.doneCount()))
	r.p.Write([]byte(skippedLine(t, why)))
}

func (r *progressReporter) Metric(t experiments.Trial, step int, key string, v float64) {
	if r.st.metric(t, step, key, v) {
		r.mu.Lock()
		bar := r.bars[t.ID]
		r.mu.Unlock()
		if bar != nil {
			bar.SetCurrent(int64(step + 1))
		}
	}
}

func (r *progressReporter) TrialFinished(t experiments.Trial, res harness.Result) {
	r.st.finished(t)
	r.mu.Lock()
	bar := r.bars[t.ID]
	delete(r.bars, t.ID)
	r.mu.Unlock()
	if bar != nil {
		bar.Abort(true) // a finished trial's bar is complete already; others go too
	}
	r.sweep.SetCurrent(int64(r.st.doneCount()))
	r.p.Write([]byte(finishedLine(t, res)))
}

func (r *progressReporter) tick() {
	defer r.ticking.Done()
	t := time.NewTicker(refreshEvery)
	defer t.Stop()
	for {
		select {
		case now := <-t.C:
			select {
			case r.refresh <- now:
			case <-r.stop:
				return
			}
		case <-r.stop:
			return
		}
	}
}

// Close draws a last frame and stops: the bars of trials still running
// (an interrupted sweep) are dropped and the sweep bar is left as it is.
func (r *progressReporter) Close() {
	r.mu.Lock()
	for id, bar := range r.bars {
		bar.Abort(true)
		delete(r.bars, id)
	}
	r.mu.Unlock()
	if r.st.doneCount() < r.st.total {
		r.sweep.Abort(false)
	} else {
		r.sweep.SetCurrent(int64(max(r.st.total, 1)))
	}
	close(r.stop)
	r.ticking.Wait()
	// mpb hands a refresh on only once the previous one is drawn, so after
	// the second send the first, which follows every line, is on screen.
	r.refresh <- time.Now()
	r.refresh <- time.Now()
	r.p.Wait()
}

// progressState is what the bars show.
type progressState struct {
	mu      sync.Mutex
	now     func() time.Time
	total   int
	begin   time.Time       // when the first trial started
	done    map[string]bool // trials that ended or were skipped
	ran     int             // trials that ended in this run: the rate
	running map[string]*trialProgress
}

type trialProgress struct {
	steps    int       // the trial's total steps
	step     int       // steps done
	loss     float64   // last train/loss
	eval     float64   // last eval/loss
	hasEval  bool      // eval is set
	started  time.Time // when the attempt started
	lastStep time.Time // when the last step was reported
}

func newProgressState(total int, now func() time.Time) *progressState {
	return &progressState{now: now, total: total, done: map[string]bool{}, running: map[string]*trialProgress{}}
}

func (s *progressState) started(t experiments.Trial) {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	if s.begin.IsZero() {
		s.begin = now
	}
	delete(s.done, t.ID) // a retry runs again
	s.running[t.ID] = &trialProgress{steps: t.Train.Steps, started: now, lastStep: now}
}

func (s *progressState) skipped(t experiments.Trial) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done[t.ID] = true
}

// metric records a value; it reports whether the trial's step advanced.
func (s *progressState) metric(t experiments.Trial, step int, key string, v float64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := s.running[t.ID]
	if tp == nil {
		return false
	}
	switch key {
	case "train/loss":
		tp.loss, tp.step, tp.lastStep = v, step+1, s.now()
		return true
	case "eval/loss":
		tp.eval, tp.hasEval = v, true
	}
	return false
}

func (s *progressState) finished(t experiments.Trial) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.running[t.ID]; ok {
		s.ran++
		delete(s.running, t.ID)
	}
	s.done[t.ID] = true
}

func (s *progressState) doneCount() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.done)
}

// eta is the time left for tp at its average step time so far; false
// before its first step.
func (tp *trialProgress) eta() (time.Duration, bool) {
	if tp.step == 0 {
		return 0, false
	}
	per := tp.lastStep.Sub(tp.started) / time.Duration(tp.step)
	return per * time.Duration(tp.steps-tp.step), true
}

// sweepText is "3/8 trials, 2 running, ETA 1m30s". The ETA is the rate
// of this run (trials ended per second since the first started) applied
// to the trials left; before any trial ends, the running trials' own
// estimates, with the queued trials taking as long as a running one.
func (s *progressState) sweepText() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	left := s.total - len(s.done)
	text := fmt.Sprintf("%d/%d trials", len(s.done), s.total)
	if n := len(s.running); n > 0 {
		text += fmt.Sprintf(", %d running", n)
	}
	if left <= 0 {
		return text
	}
	if s.ran > 0 {
		per := s.now().Sub(s.begin) / time.Duration(s.ran)
		return text + ", ETA " + showDuration(per*time.Duration(left))
	}
	var longest, whole time.Duration
	known := false
	for _, tp := range s.running {
		if eta, ok := tp.eta(); ok {
			known = true
			longest = max(longest, eta)
			whole = max(whole, tp.lastStep.Sub(tp.started)+eta)
		}
	}
	if !known {
		return text + ", ETA ?"
	}
	queued := left - len(s.running)
	rounds := (queued + len(s.running) - 1) / len(s.running)
	return text + ", ETA " + showDuration(longest+time.Duration(rounds)*whole)
}

// trialText is "step 120/300  loss 1.2345  eval 1.3456  ETA 45s".
func (s *progressState) trialText(id string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	tp := s.running[id]
	if tp == nil {
		return ""
	}
	text := fmt.Sprintf("step %d/%d", tp.step, tp.steps)
	if tp.step > 0 {
		text += fmt.Sprintf("  loss %.4f", tp.loss)
	}
	if tp.hasEval {
		text += fmt.Sprintf("  eval %.4f", tp.eval)
	}
	if eta, ok := tp.eta(); ok {
		text += "  ETA " + showDuration(eta)
	} else {
		text += "  ETA ?"
	}
	return text
}

// showDuration rounds to seconds (tenths under ten seconds).
func showDuration(d time.Duration) string {
	if d < 10*time.Second {
		return d.Round(100 * time.Millisecond).String()
	}
	return d.Round(time.Second).String()
}
