package main

import (
	"database/sql"

	"encoding/json"
	_ "modernc.org/sqlite"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/storetest"
)

// storeArgs gives the two stores a command can work on: an SQLite data
// folder, and PostgreSQL (with the data folder for the audit key and the
// demo credentials file).
func eachStore(t *testing.T, fn func(t *testing.T, args []string, dataDir string)) {
	t.Run("sqlite", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "data")
		fn(t, []string{"--data", dir}, dir)
	})
	t.Run("postgres", func(t *testing.T) {
		dsn := storetest.PostgresDSN(t)
		dir := filepath.Join(t.TempDir(), "data")
		fn(t, []string{"--db", dsn, "--data", dir}, dir)
	})
}

func TestCLIJourney(t *testing.T) {
	eachStore(t, func(t *testing.T, st []string, dataDir string) {
		with := func(args ...string) []string { return append(args, st...) }

		// The demo loads into an empty store, prints logins and keeps them 0600.
		code, out, errOut := cli(t, "", with("demo")...)
		if code != 0 || !strings.Contains(out, "Demo logins") {
			t.Fatalf("demo: exit %d\n%s\n%s", code, out, errOut)
		}
		fi, err := os.Stat(filepath.Join(dataDir, "demo-credentials.json"))
		if err != nil || fi.Mode().Perm() != 0o600 {
			t.Fatalf("credentials file: %v mode %v, want 0600", err, fi.Mode().Perm())
		}
		// A second load is refused without --reset, and loses nothing.
		code, _, errOut = cli(t, "", with("demo")...)
		if code != 1 || !strings.Contains(errOut, "already holds data") {
			t.Fatalf("second demo: exit %d, %s", code, errOut)
		}

		// org list as JSON is a contract for scripts.
		code, out, _ = cli(t, "", with("org", "list", "--format", "json")...)
		if code != 0 {
			t.Fatalf("org list: exit %d", code)
		}
		var orgs []struct {
			ID        string `json:"id"`
			ShortName string `json:"short_name"`
			Kind      string `json:"kind"`
		}
		if err := json.Unmarshal([]byte(out), &orgs); err != nil || len(orgs) < 10 {
			t.Fatalf("org list json: %v, %d orgs\n%s", err, len(orgs), out)
		}
		short := ""
		for _, o := range orgs {
			if o.Kind == "OES" {
				short = o.ShortName
				break
			}
		}
		code, out, _ = cli(t, "", with("org", "show", short)...)
		if code != 0 || !strings.Contains(out, "Served by") {
			t.Fatalf("org show %s: exit %d\n%s", short, code, out)
		}
		code, _, errOut = cli(t, "", with("org", "show", "no-such-org")...)
		if code != 1 || !strings.Contains(errOut, "no-such-org") {
			t.Fatalf("org show missing: exit %d %s", code, errOut)
		}

		// Export, import back: nothing changes, UUIDs are kept.
		exp := filepath.Join(t.TempDir(), "dir.json")
		if code, _, errOut = cli(t, "", with("org", "export", "-o", exp)...); code != 0 {
			t.Fatalf("export: %d %s", code, errOut)
		}
		code, out, errOut = cli(t, "", with("org", "import", exp)...)
		if code != 0 || !strings.Contains(out, "0 created, 0 updated") {
			t.Fatalf("import back: exit %d\n%s%s", code, out, errOut)
		}
		// A broken import names the path and stores nothing.
		bad := filepath.Join(t.TempDir(), "bad.json")
		os.WriteFile(bad, []byte(`{"format":"nisduc-directory","version":1,"organizations":[{"id":"6f1c4b0e-0000-4000-8000-00000000abcd","short_name":"x!","name":"","country":"ZZ","timezone":"Mars/Base","kind":"OES","prefixes":["192.0.2.1/24"]}],"supervision":[]}`), 0o600)
		code, _, errOut = cli(t, "", with("org", "import", bad)...)
		if code != 1 || !strings.Contains(errOut, "organizations[0].prefixes[0]") || !strings.Contains(errOut, "organizations[0].country") {
			t.Fatalf("bad import: exit %d\n%s", code, errOut)
		}

		// A user with a password from standard input; a weak one is refused.
		code, _, errOut = cli(t, "password\n", with("user", "add", "--org", short, "--email", "weak@example.test", "--name", "Weak", "--role", "read_only")...)
		if code != 1 || !strings.Contains(errOut, "password") {
			t.Fatalf("weak password: exit %d %s", code, errOut)
		}
		code, out, errOut = cli(t, "a long and unusual passphrase 7\n", with("user", "add", "--org", short, "--email", "new.person@example.test", "--name", "New Person", "--role", "risk_manager")...)
		if code != 0 || !strings.Contains(out, "new.person@example.test") {
			t.Fatalf("user add: exit %d\n%s%s", code, out, errOut)
		}
		code, out, _ = cli(t, "", with("user", "list", "--org", short, "--format", "json")...)
		if code != 0 || !strings.Contains(out, "new.person@example.test") {
			t.Fatalf("user list: exit %d\n%s", code, out)
		}

		// A token is printed once.
		code, out, _ = cli(t, "", with("token", "create", "--user", "new.person@example.test", "--name", "ci")...)
		if code != 0 || !strings.HasPrefix(strings.TrimSpace(out), "ndc_") {
			t.Fatalf("token create: exit %d %q", code, out)
		}

		// The trail is intact, and lists the changes just made.
		code, out, _ = cli(t, "", with("audit", "verify")...)
		if code != 0 || !strings.Contains(out, "intact") {
			t.Fatalf("audit verify: exit %d\n%s", code, out)
		}
		code, out, _ = cli(t, "", with("audit", "list", "--action", "user.create", "--format", "json")...)
		if code != 0 || !strings.Contains(out, "new.person@example.test") {
			t.Fatalf("audit list: exit %d\n%s", code, out)
		}

		// --reset wipes and reloads, with new passwords.
		before, _ := os.ReadFile(filepath.Join(dataDir, "demo-credentials.json"))
		if code, _, errOut = cli(t, "", with("demo", "--reset")...); code != 0 {
			t.Fatalf("demo --reset: %d %s", code, errOut)
		}
		after, _ := os.ReadFile(filepath.Join(dataDir, "demo-credentials.json"))
		if string(before) == string(after) {
			t.Fatal("demo --reset kept the old passwords")
		}
		if code, out, _ = cli(t, "", with("audit", "verify")...); code != 0 {
			t.Fatalf("audit verify after reset: %d\n%s", code, out)
		}
	})
}

func TestCLIUsageErrors(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	tests := []struct {
		args []string
		code int
		want string
	}{
		{nil, 2, "Usage"},
		{[]string{"frobnicate"}, 2, "unknown command"},
		{[]string{"org"}, 2, "subcommand"},
		{[]string{"org", "list", "--format", "xml", "--data", dir}, 2, "--format"},
		{[]string{"user", "add", "--data", dir}, 2, "required"},
		{[]string{"serve", "--db", "mysql://x", "--addr", "127.0.0.1:0"}, 1, "unsupported database URL"},
		{[]string{"version"}, 0, "nisduc"},
	}
	for _, tt := range tests {
		code, out, errOut := cli(t, "", tt.args...)
		if code != tt.code || !strings.Contains(out+errOut, tt.want) {
			t.Errorf("nisduc %v: exit %d (want %d), output %q (want %q)", tt.args, code, tt.code, out+errOut, tt.want)
		}
	}
}

// Without --demo nothing is invented: the first start explains how to
// create the first administrator, and following its words works.
func TestFirstStartExplainsAdmin(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	_, out := startServe(t, "--data", dir)
	if !strings.Contains(out.String(), "nisduc user add --admin") || !strings.Contains(out.String(), "nisduc org add") {
		t.Fatalf("first start did not explain how to create the administrator:\n%s", out.String())
	}
	code, o, errOut := cli(t, "", "org", "add", "--short-name", "ops", "--name", "Platform operations", "--kind", "other_authority",
		"--country", "LU", "--timezone", "Europe/Luxembourg", "--data", dir)
	if code != 0 || !strings.Contains(o, "organisation ops created") {
		t.Fatalf("org add: %d %s %s", code, o, errOut)
	}
	code, _, errOut = cli(t, "", "org", "add", "--short-name", "x", "--kind", "bank", "--country", "ZZ", "--timezone", "Nowhere", "--data", dir)
	if code != 1 || !strings.Contains(errOut, "short_name") || !strings.Contains(errOut, "kind") || !strings.Contains(errOut, "country") || !strings.Contains(errOut, "timezone") {
		t.Fatalf("org add with bad fields: exit %d, want every field named:\n%s", code, errOut)
	}
	code, o, errOut = cli(t, "a long and unusual passphrase 7\n", "user", "add", "--admin", "--org", "ops", "--email", "admin@example.org", "--name", "Ada Admin", "--data", dir)
	if code != 0 || !strings.Contains(o, "admin@example.org") {
		t.Fatalf("user add --admin: %d %s %s", code, o, errOut)
	}
}

// Someone with write access to the database file edits a past entry (past
// the append-only trigger, as an attacker would): `audit verify` exits 1
// and names the entry.
func TestAuditVerifyFindsTampering(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := cli(t, "", "demo", "--data", dir); code != 0 {
		t.Fatal(errOut)
	}
	db, err := sql.Open("sqlite", "file:"+filepath.Join(dir, "nisduc.db"))
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		"DROP TRIGGER audit_log_no_update",
		`UPDATE audit_log SET addr = '203.0.113.66' WHERE seq = 5`,
	} {
		if _, err := db.Exec(q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	db.Close()
	code, out, _ := cli(t, "", "audit", "verify", "--data", dir)
	if code != 1 || !strings.Contains(out, "BROKEN after 4 good entries") {
		t.Fatalf("verify after tampering: exit %d\n%s", code, out)
	}
	code, out, _ = cli(t, "", "audit", "verify", "--format", "json", "--data", dir)
	if code != 1 || !strings.Contains(out, `"seq": 5`) {
		t.Fatalf("verify --format json: exit %d\n%s", code, out)
	}
}
