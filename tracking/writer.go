package tracking

import (
	"database/sql"
	"errors"
	"fmt"
	"math"
	"time"

	"github.com/mattn/go-sqlite3"
)

// point is one logged metric value waiting for its transaction.
type point struct {
	trial, key string
	step       int64
	value      float64
	time       int64 // Unix ms
}

// op is a control operation run by the writer in its own transaction.
type op struct {
	fn   func(tx *sql.Tx) error // nil for Flush
	done chan error             // buffered; receives the result
}

// msg is what the writer's channel carries: a point, or an op when op is
// not nil. One channel keeps points and operations in the order they were
// sent.
type msg struct {
	p  point
	op *op
}

// A re-logged (trial, key, step) overwrites: the last value wins, and no
// row is ever duplicated.
const insertMetric = `INSERT INTO metrics (trial_id, key, step, value, time) VALUES (?, ?, ?, ?, ?)
	ON CONFLICT (trial_id, key, step) DO UPDATE SET value = excluded.value, time = excluded.time`

// Log queues one metric value of a trial for writing and returns at once,
// unless the queue is full (the writer is Options.QueueSize points behind),
// when it waits for room. The point is committed within
// Options.FlushInterval, before any later control operation, and on Flush
// and Close. The trial must exist (UpsertTrial) by the time the point is
// written. A NaN value is stored as NULL and read back as NaN; ±Inf is kept.
// Write errors are reported by the next Flush or Close. Log on a closed or
// read-only store does nothing.
func (s *Store) Log(trialID, key string, step int, value float64) {
	m := msg{p: point{trial: trialID, key: key, step: int64(step), value: value, time: time.Now().UnixMilli()}}
	s.mu.RLock()
	if !s.closed && s.ch != nil {
		s.ch <- m
	}
	s.mu.RUnlock()
}

// Flush waits until every point logged before it is committed, and returns
// the error of any point that could not be written since the last Flush
// (then forgets it).
func (s *Store) Flush() error {
	return s.do("flush", nil)
}

// do runs fn in a write transaction on the writer goroutine, after every
// point and operation sent before it, and waits for the result.
func (s *Store) do(what string, fn func(tx *sql.Tx) error) error {
	o := &op{fn: fn, done: make(chan error, 1)}
	s.mu.RLock()
	switch {
	case s.ch == nil:
		s.mu.RUnlock()
		return s.wrap(what, ErrReadOnly)
	case s.closed:
		s.mu.RUnlock()
		return s.wrap(what, ErrClosed)
	}
	s.ch <- msg{op: o}
	s.mu.RUnlock()
	if fn == nil {
		return <-o.done // already wrapped by takeLost
	}
	return s.wrap(what, <-o.done)
}

// writer owns the write connection. It batches points into transactions
// of at most FlushRows, commits a partial batch every FlushInterval, and
// commits the pending batch before it runs an operation.
func (s *Store) writer() {
	defer close(s.done)
	tick := time.NewTicker(s.opt.FlushInterval)
	defer tick.Stop()
	batch := make([]point, 0, s.opt.FlushRows)
	flush := func() {
		if len(batch) > 0 {
			s.writeBatch(batch)
			batch = batch[:0]
		}
	}
	for {
		select {
		case m, ok := <-s.ch:
			switch {
			case !ok:
				flush()
				return
			case m.op == nil:
				batch = append(batch, m.p)
				if len(batch) >= s.opt.FlushRows {
					flush()
				}
			default:
				flush()
				m.op.done <- s.runOp(m.op)
			}
		case <-tick.C:
			flush()
		}
	}
}

func (s *Store) runOp(o *op) error {
	if o.fn == nil {
		return s.takeLost()
	}
	tx, err := s.wc.BeginTx(bg, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := o.fn(tx); err != nil {
		tx.Rollback()
		return err
	}
	if err := tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	return nil
}

// writeBatch commits pts in one transaction. A point that breaks a
// constraint (no such trial, empty key) is skipped and counted as lost; any
// other error loses the whole batch, never a part of it.
func (s *Store) writeBatch(pts []point) {
	tx, err := s.wc.BeginTx(bg, nil)
	if err != nil {
		s.lose(len(pts), fmt.Errorf("begin metric batch: %w", err))
		return
	}
	stmt, err := tx.Prepare(insertMetric)
	if err != nil {
		tx.Rollback()
		s.lose(len(pts), fmt.Errorf("prepare metric insert: %w", err))
		return
	}
	for _, p := range pts {
		var v any = p.value
		if math.IsNaN(p.value) {
			v = nil
		}
		if _, err := stmt.Exec(p.trial, p.key, p.step, v, p.time); err != nil {
			if isConstraint(err) {
				s.lose(1, pointError(p, err))
				continue
			}
			tx.Rollback()
			s.lose(len(pts), fmt.Errorf("metric batch of %d points lost at trial %q key %q step %d: %w",
				len(pts), p.trial, p.key, p.step, err))
			return
		}
	}
	stmt.Close()
	if err := tx.Commit(); err != nil {
		s.lose(len(pts), fmt.Errorf("commit metric batch of %d points: %w", len(pts), err))
	}
}

func isConstraint(err error) bool {
	var se sqlite3.Error
	return errors.As(err, &se) && se.Code == sqlite3.ErrConstraint
}

func pointError(p point, err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) && se.ExtendedCode == sqlite3.ErrConstraintForeignKey {
		return fmt.Errorf("trial %q key %q step %d: no such trial (record it with UpsertTrial before logging)",
			p.trial, p.key, p.step)
	}
	return fmt.Errorf("trial %q key %q step %d: %w", p.trial, p.key, p.step, err)
}

func (s *Store) lose(n int, err error) {
	s.lostMu.Lock()
	if s.lost == 0 {
		s.firstLost = err
	}
	s.lost += n
	s.lostMu.Unlock()
}

// takeLost returns and forgets the lost-points error.
func (s *Store) takeLost() error {
	s.lostMu.Lock()
	n, err := s.lost, s.firstLost
	s.lost, s.firstLost = 0, nil
	s.lostMu.Unlock()
	if n == 0 {
		return nil
	}
	return fmt.Errorf("tracking: %s: %d metric points were not written; the first: %w", s.path, n, err)
}
