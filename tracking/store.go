package tracking

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/mattn/go-sqlite3"
)

// bg is the context of every statement: the driver starts a watcher
// goroutine per statement for a cancellable context, which the hot path
// cannot afford, and no store operation is cancellable anyway.
var bg = context.Background()

// Options tunes a Store. The zero value of each field picks its default.
type Options struct {
	FlushRows     int           // metric points per write transaction at most; default 4096
	FlushInterval time.Duration // longest a logged point waits before its transaction; default 20ms
	QueueSize     int           // points and operations buffered before Log blocks; default 16384
	BusyTimeout   time.Duration // wait for a lock held by another process; default 10s
	ReadConns     int           // read-only connections in the pool; default 4
}

func (o Options) withDefaults() Options {
	if o.FlushRows <= 0 {
		o.FlushRows = 4096
	}
	if o.FlushInterval <= 0 {
		o.FlushInterval = 20 * time.Millisecond
	}
	if o.QueueSize <= 0 {
		o.QueueSize = 1 << 14
	}
	if o.BusyTimeout <= 0 {
		o.BusyTimeout = 10 * time.Second
	}
	if o.ReadConns <= 0 {
		o.ReadConns = 4
	}
	return o
}

// Store is an open tracking store. Its methods are safe for concurrent use.
type Store struct {
	path string // absolute path of the database file
	opt  Options

	wdb  *sql.DB   // the one write connection (nil when read-only)
	wc   *sql.Conn // owned by the writer goroutine
	rdb  *sql.DB   // read-only pool (mode=ro)
	ch   chan msg  // feeds the writer; closed by Close
	done chan struct{}

	mu     sync.RWMutex // held shared while sending on ch, exclusively to close it
	closed bool

	lostMu    sync.Mutex
	lost      int   // metric points not written since the last Flush
	firstLost error // why the first of them was not
}

// Open opens the store at path, creating the file if it does not exist and
// migrating an older schema, and starts its writer. The directory must
// exist. Close it to flush the last metrics.
func Open(path string) (*Store, error) { return OpenOptions(path, Options{}) }

// OpenOptions is Open with tuning options.
func OpenOptions(path string, opt Options) (*Store, error) {
	abs, err := checkPath(path, true)
	if err != nil {
		return nil, err
	}
	s := &Store{path: abs, opt: opt.withDefaults()}
	if err := s.openWriter(); err != nil {
		s.closeDBs()
		return nil, s.wrap("open", err)
	}
	if err := s.openReaders(); err != nil {
		s.closeDBs()
		return nil, s.wrap("open read-only connections", err)
	}
	s.ch = make(chan msg, s.opt.QueueSize)
	s.done = make(chan struct{})
	go s.writer()
	return s, nil
}

// OpenReadOnly opens an existing store for reading only, as reports do: it
// never creates or migrates the file, and every write operation returns
// ErrReadOnly.
func OpenReadOnly(path string) (*Store, error) {
	abs, err := checkPath(path, false)
	if err != nil {
		return nil, err
	}
	s := &Store{path: abs, opt: Options{}.withDefaults()}
	if err := s.openReaders(); err != nil {
		s.closeDBs()
		return nil, s.wrap("open read-only", err)
	}
	if _, err := readVersion(s.rdb); err != nil {
		s.closeDBs()
		return nil, s.wrap("open read-only", explain(err))
	}
	return s, nil
}

// ErrReadOnly is returned by write operations on a store from OpenReadOnly.
var ErrReadOnly = errors.New("store was opened read-only")

// Path is the absolute path of the store's file.
func (s *Store) Path() string { return s.path }

func checkPath(path string, create bool) (string, error) {
	if path == "" {
		return "", errors.New("tracking: open: empty store path")
	}
	abs, err := filepath.Abs(path)
	if err != nil {
		return "", fmt.Errorf("tracking: open %s: %w", path, err)
	}
	if fi, err := os.Stat(abs); err == nil && fi.IsDir() {
		return "", fmt.Errorf("tracking: open %s: is a directory, want a database file such as %s",
			abs, filepath.Join(abs, "runs.db"))
	} else if err != nil && !create {
		return "", fmt.Errorf("tracking: open %s: no store there: %w", abs, err)
	}
	dir := filepath.Dir(abs)
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return "", fmt.Errorf("tracking: open %s: directory %s does not exist (create it first)", abs, dir)
	}
	return abs, nil
}

// dsn builds the driver's URI for path. Every write runs in BEGIN
// IMMEDIATE so that a transaction never has to upgrade its lock (the cause
// of "database is locked" errors that busy_timeout cannot retry).
func (s *Store) dsn(readOnly bool) string {
	// SQLite URIs reserve '?', '#' and '%' in the path.
	p := strings.NewReplacer("%", "%25", "?", "%3f", "#", "%23").Replace(filepath.ToSlash(s.path))
	q := fmt.Sprintf("_busy_timeout=%d", s.opt.BusyTimeout.Milliseconds())
	if readOnly {
		return "file:" + p + "?mode=ro&" + q
	}
	return "file:" + p + "?mode=rwc&" + q +
		"&_journal_mode=WAL&_synchronous=NORMAL&_foreign_keys=1&_txlock=immediate"
}

func (s *Store) openWriter() error {
	db, err := sql.Open("sqlite3", s.dsn(false))
	if err != nil {
		return err
	}
	s.wdb = db
	db.SetMaxOpenConns(1)
	db.SetMaxIdleConns(1)
	db.SetConnMaxLifetime(0)
	db.SetConnMaxIdleTime(0)
	if s.wc, err = db.Conn(bg); err != nil {
		return explain(err)
	}
	var mode string
	if err := s.wc.QueryRowContext(bg, `PRAGMA journal_mode`).Scan(&mode); err != nil {
		return explain(err)
	}
	if mode != "wal" {
		return fmt.Errorf("journal mode is %q, not wal: the file system may not support WAL's shared memory", mode)
	}
	if _, _, err := migrate(s.wc, migrations); err != nil {
		return explain(err)
	}
	return nil
}

func (s *Store) openReaders() error {
	db, err := sql.Open("sqlite3", s.dsn(true))
	if err != nil {
		return err
	}
	s.rdb = db
	db.SetMaxOpenConns(s.opt.ReadConns)
	db.SetMaxIdleConns(s.opt.ReadConns)
	return explain(db.Ping())
}

// explain adds a hint to the driver errors a user can do something about.
func explain(err error) error {
	var se sqlite3.Error
	if errors.As(err, &se) {
		switch se.Code {
		case sqlite3.ErrNotADB:
			return fmt.Errorf("%w (the file is not a SQLite database, or is encrypted or corrupt)", err)
		case sqlite3.ErrCantOpen:
			return fmt.Errorf("%w (check the path and its permissions)", err)
		case sqlite3.ErrReadonly, sqlite3.ErrPerm:
			return fmt.Errorf("%w (the file or its directory is not writable)", err)
		}
	}
	return err
}

func (s *Store) wrap(what string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("tracking: %s: %s: %w", s.path, what, err)
}

// Close flushes every logged metric, stops the writer and closes the file.
// It returns the error of any metric point that could not be written since
// the last Flush. Closing twice is a no-op.
func (s *Store) Close() error {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	if s.ch != nil {
		close(s.ch)
	}
	s.mu.Unlock()
	if s.done != nil {
		<-s.done
	}
	err := s.takeLost()
	if cerr := s.closeDBs(); cerr != nil {
		err = errors.Join(err, s.wrap("close", cerr))
	}
	return err
}

// closeDBs closes the readers first so that the writer's connection is the
// last one and checkpoints the WAL into the main file.
func (s *Store) closeDBs() error {
	var errs []error
	if s.rdb != nil {
		errs = append(errs, s.rdb.Close())
	}
	if s.wc != nil {
		errs = append(errs, s.wc.Close())
	}
	if s.wdb != nil {
		errs = append(errs, s.wdb.Close())
	}
	return errors.Join(errs...)
}
