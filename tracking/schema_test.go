package tracking

import (
	"database/sql"
	"os"
	"path/filepath"
	"testing"
)

// rawDB opens path with the driver directly, bypassing the Store.
func rawDB(t *testing.T, path string) *sql.DB {
	t.Helper()
	db, err := sql.Open("sqlite3", "file:"+path+"?_txlock=immediate")
	if err != nil {
		t.Fatal(err)
	}
	db.SetMaxOpenConns(1)
	t.Cleanup(func() { db.Close() })
	return db
}

func TestMigrateEmptyFileAndReopen(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	if err := os.WriteFile(path, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < 2; i++ { // create the schema, then find it in place
		s, err := Open(path)
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
		if v := count(t, s, `SELECT max(version) FROM schema_version`); v != SchemaVersion {
			t.Errorf("open %d: schema version %d, want %d", i, v, SchemaVersion)
		}
		if n := count(t, s, `SELECT count(*) FROM schema_version`); n != len(migrations) {
			t.Errorf("open %d: %d migrations recorded, want %d", i, n, len(migrations))
		}
		var mode string
		if err := s.rdb.QueryRow(`PRAGMA journal_mode`).Scan(&mode); err != nil || mode != "wal" {
			t.Errorf("journal_mode = %q, %v", mode, err)
		}
		for _, name := range []string{"experiments", "environment", "trials", "experiment_trials", "params",
			"metrics", "summaries", "metric_last", "trial_summary", "param_summary", "metric_long"} {
			if n := count(t, s, `SELECT count(*) FROM sqlite_schema WHERE name = ?`, name); n != 1 {
				t.Errorf("open %d: no table or view %s", i, name)
			}
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

// Migrations run in order, once, and each run is one transaction: a
// failing migration leaves the store at the version before it.
func TestMigrationsAreOrderedAndAtomic(t *testing.T) {
	path := filepath.Join(t.TempDir(), "runs.db")
	s, err := Open(path)
	if err != nil {
		t.Fatal(err)
	}
	s.Close()
	conn, err := rawDB(t, path).Conn(bg)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()

	v2 := append(append([]migration{}, migrations...),
		migration{2, "add trials.note", `ALTER TABLE trials ADD COLUMN note TEXT NOT NULL DEFAULT ''`})
	if from, to, err := migrate(conn, v2); err != nil || from != 1 || to != 2 {
		t.Fatalf("migrate to 2 = %d, %d, %v", from, to, err)
	}
	if from, to, err := migrate(conn, v2); err != nil || from != 2 || to != 2 {
		t.Fatalf("migrate again = %d, %d, %v; want nothing to do", from, to, err)
	}
	v3 := append(v2, migration{3, "broken", `CREATE TABLE half (x INTEGER); SELECT * FROM no_such_table`})
	_, _, err = migrate(conn, v3)
	wantErr(t, err, nil, "migration 3 (broken)", "no_such_table")
	var version, half int
	conn.QueryRowContext(bg, `SELECT max(version) FROM schema_version`).Scan(&version)
	conn.QueryRowContext(bg, `SELECT count(*) FROM sqlite_schema WHERE name = 'half'`).Scan(&half)
	if version != 2 || half != 0 {
		t.Errorf("after a failed migration: version %d, table half %d; want 2 and no table", version, half)
	}
	_, _, err = migrate(conn, []migration{{2, "skips one", ""}})
	wantErr(t, err, nil, "out of order")

	// This binary knows only version 1: the store written by "a newer
	// attnlab" is refused, read-write and read-only, and left unchanged.
	_, err = Open(path)
	wantErr(t, err, ErrNewerSchema, path, "version 2", "up to 1", "newer attnlab")
	_, err = OpenReadOnly(path)
	wantErr(t, err, ErrNewerSchema, path, "version 2")
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.db")
	text := []byte("this is not a database, just some text that is long enough to be read as a header.")
	if err := os.WriteFile(garbage, text, 0o644); err != nil {
		t.Fatal(err)
	}
	foreign := filepath.Join(dir, "foreign.db")
	if _, err := rawDB(t, foreign).Exec(`CREATE TABLE people (name TEXT)`); err != nil {
		t.Fatal(err)
	}
	readOnlyDir := filepath.Join(dir, "ro")
	os.Mkdir(readOnlyDir, 0o555)
	cases := []struct {
		name, path string
		readOnly   bool
		want       []string
	}{
		{"empty path", "", false, []string{"empty store path"}},
		{"a directory", dir, false, []string{dir, "is a directory", "runs.db"}},
		{"missing directory", filepath.Join(dir, "no", "runs.db"), false, []string{filepath.Join(dir, "no"), "does not exist"}},
		{"not SQLite", garbage, false, []string{garbage, "not a SQLite database"}},
		{"not attnlab", foreign, false, []string{foreign, "not an attnlab store"}},
		{"read-only missing file", filepath.Join(dir, "missing.db"), true, []string{"missing.db", "no store there"}},
		{"read-only not attnlab", foreign, true, []string{foreign, "not an attnlab store", "has tables"}},
		{"read-only not SQLite", garbage, true, []string{garbage, "not a SQLite database"}},
	}
	if os.Geteuid() != 0 { // root writes anywhere
		cases = append(cases, struct {
			name, path string
			readOnly   bool
			want       []string
		}{"unwritable directory", filepath.Join(readOnlyDir, "runs.db"), false, []string{readOnlyDir}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			open := Open
			if c.readOnly {
				open = OpenReadOnly
			}
			s, err := open(c.path)
			if err == nil {
				s.Close()
			}
			wantErr(t, err, nil, c.want...)
		})
	}
	if got, err := os.ReadFile(garbage); err != nil || string(got) != string(text) {
		t.Errorf("the garbage file was changed: %q, %v", got, err)
	}
}
