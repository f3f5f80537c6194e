// Package demo loads nisduc's demonstration directory — authorities and
// operators in Luxembourg and Belgium, supervision links, and users of
// every role — into an empty store, with random passwords that it returns
// and keeps in <data>/demo-credentials.json (mode 0600) so that a later
// `serve --demo` on the same folder can show them again.
//
// Loading is for an empty store only (IsEmpty): the caller decides what to
// do with a store that already holds data (reuse it, or wipe it first with
// store.Wipe for `demo --reset`). Passwords are generated on each load:
// a reset gives new ones and a new credentials file.
package demo

import (
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/json"
	"errors"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// CredentialsFile is the name of the credentials file in the data folder.
const CredentialsFile = "demo-credentials.json"

// Credential is one demo account.
type Credential struct {
	Email    string       `json:"email"`
	Password string       `json:"password"`
	Name     string       `json:"name"`
	Org      string       `json:"organization"` // short name
	Roles    []authz.Role `json:"roles"`
	Sectors  []string     `json:"sectors,omitempty"`
}

// Credentials are the demo accounts of one load.
type Credentials struct {
	GeneratedAt time.Time    `json:"generated_at"`
	Users       []Credential `json:"users"`
}

// Find returns the credential of email.
func (c Credentials) Find(email string) (Credential, bool) {
	for _, u := range c.Users {
		if strings.EqualFold(u.Email, email) {
			return u, true
		}
	}
	return Credential{}, false
}

// IsEmpty reports whether the store holds no organisation (and therefore
// no user), the only state the demo loads into.
func IsEmpty(ctx context.Context, db *store.DB) (bool, error) { return db.IsEmpty(ctx) }

// hashPassword is auth's hash; the timing test replaces it to measure the
// load without the deliberate cost of argon2.
var hashPassword = auth.HashPassword

// Load creates the demo directory in one transaction, through the
// directory service (so everything is validated and audited as usual),
// acting as the actor in ctx or, when there is none, as the command line
// ("cli:demo"). Passwords are random (16 base32 characters in four
// groups, 80 bits), checked against the password policy and hashed
// concurrently before the transaction, so the store's writer is held only
// for the inserts. The credentials are returned and, when dataDir is not
// empty, written to dataDir/demo-credentials.json with mode 0600.
//
// Errors: Conflict when the store is not empty; Forbidden when the actor
// may not create organisations; Internal otherwise.
func Load(ctx context.Context, db *store.DB, log *audit.Log, dir *directory.Service, dataDir string) (Credentials, error) {
	if authz.ActorFrom(ctx) == nil {
		ctx = authz.WithActor(ctx, authz.CLI("demo"))
	}
	empty, err := IsEmpty(ctx, db)
	if err != nil {
		return Credentials{}, err
	}
	if !empty {
		return Credentials{}, errs.E(errs.Conflict, "the store already holds organisations: the demo loads only into an empty store")
	}
	start := time.Now()
	orgs := organisations()
	creds := Credentials{GeneratedAt: db.Now().UTC().Truncate(time.Second)}
	for _, o := range orgs {
		for _, du := range o.users {
			pw, err := newPassword(du.email, du.name)
			if err != nil {
				return Credentials{}, err
			}
			creds.Users = append(creds.Users, Credential{Email: du.email, Password: pw, Name: du.name,
				Org: o.in.ShortName, Roles: du.roles, Sectors: du.sectors})
		}
	}
	hashes, err := hashAll(creds.Users)
	if err != nil {
		return Credentials{}, err
	}
	hashed := time.Now()
	err = db.Update(ctx, func(tx *store.Tx) error {
		ids := map[string]string{}
		for _, o := range orgs {
			created, err := dir.CreateOrgTx(ctx, tx, o.in)
			if err != nil {
				return errs.Wrap(err, "demo organisation %s", o.in.ShortName)
			}
			ids[o.in.ShortName] = created.ID
		}
		for _, l := range links() {
			_, err := dir.AddLinkTx(ctx, tx, directory.Link{Country: l.country, Sector: l.sector, Role: l.role,
				AuthorityOrgID: ids[l.authority], Model: l.model})
			if err != nil {
				return errs.Wrap(err, "demo link %s %s %s", l.authority, l.sector, l.role)
			}
		}
		for i, c := range creds.Users {
			_, err := dir.CreateUserTx(ctx, tx, directory.NewUser{OrgID: ids[c.Org], Email: c.Email, Name: c.Name,
				Roles: c.Roles, Sectors: c.Sectors, PasswordHash: hashes[i]})
			if err != nil {
				return errs.Wrap(err, "demo user %s", c.Email)
			}
		}
		return log.Record(ctx, tx, audit.Entry{Action: "demo.load", ObjectType: "directory",
			Details: map[string]any{"organizations": len(orgs), "users": len(creds.Users), "links": len(links())}})
	})
	if err != nil {
		return Credentials{}, err
	}
	slog.Info("demo loaded", "organizations", len(orgs), "users", len(creds.Users),
		"hashing", hashed.Sub(start).Round(time.Millisecond), "load", time.Since(hashed).Round(time.Millisecond))
	if dataDir != "" {
		if err := writeCredentials(dataDir, creds); err != nil {
			// The demo is in the store; the caller can still show the
			// passwords it gets back.
			return creds, err
		}
	}
	return creds, nil
}

// passwordEncoding is lower-case base32 without padding: no 0/O or 1/l
// to confuse when typed from the screen.
var passwordEncoding = base32.NewEncoding("abcdefghijklmnopqrstuvwxyz234567").WithPadding(base32.NoPadding)

// newPassword returns 16 random base32 characters in four groups
// ("k7qm-2xwp-…", 80 bits), one the password policy accepts for this user.
func newPassword(email, name string) (string, error) {
	for range 10 {
		var b [10]byte
		if _, err := rand.Read(b[:]); err != nil {
			return "", errs.Wrap(err, "demo password")
		}
		s := passwordEncoding.EncodeToString(b[:])
		pw := s[0:4] + "-" + s[4:8] + "-" + s[8:12] + "-" + s[12:16]
		if auth.CheckPasswordPolicy(pw, email, name) == nil {
			return pw, nil
		}
	}
	return "", errs.E(errs.Internal, "no demo password passed the policy")
}

// hashAll hashes every password concurrently; auth bounds how many argon2
// computations run at once, so this uses every core without exhausting
// memory.
func hashAll(users []Credential) ([]string, error) {
	hashes := make([]string, len(users))
	errsOut := make([]error, len(users))
	var wg sync.WaitGroup
	for i, c := range users {
		wg.Go(func() { hashes[i], errsOut[i] = hashPassword(c.Password) })
	}
	wg.Wait()
	if err := errors.Join(errsOut...); err != nil {
		return nil, errs.Wrap(err, "hash demo passwords")
	}
	return hashes, nil
}

// writeCredentials writes the file atomically (a temporary file renamed
// over the old one) with mode 0600: it holds working passwords.
func writeCredentials(dataDir string, c Credentials) error {
	if err := os.MkdirAll(dataDir, 0o700); err != nil {
		return errs.Wrap(err, "demo credentials folder")
	}
	b, err := json.MarshalIndent(c, "", "  ")
	if err != nil {
		return errs.Wrap(err, "demo credentials")
	}
	f, err := os.CreateTemp(dataDir, ".demo-credentials-*")
	if err != nil {
		return errs.Wrap(err, "demo credentials")
	}
	tmp := f.Name()
	defer os.Remove(tmp) // a no-op once renamed
	if err := f.Chmod(0o600); err != nil {
		f.Close()
		return errs.Wrap(err, "demo credentials")
	}
	if _, err := f.Write(append(b, '\n')); err != nil {
		f.Close()
		return errs.Wrap(err, "demo credentials")
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return errs.Wrap(err, "demo credentials")
	}
	if err := f.Close(); err != nil {
		return errs.Wrap(err, "demo credentials")
	}
	return errs.Wrap(os.Rename(tmp, filepath.Join(dataDir, CredentialsFile)), "demo credentials")
}

// ReadCredentials reads the credentials a previous Load wrote to dataDir,
// so `serve --demo` on the same folder can show them again. A file that
// others may read is reported in the log (it holds working passwords).
//
// Errors: NotFound when there is no such file; Invalid when it is not a
// credentials file.
func ReadCredentials(dataDir string) (Credentials, error) {
	path := filepath.Join(dataDir, CredentialsFile)
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return Credentials{}, errs.E(errs.NotFound, "no demo credentials in %s", dataDir)
	}
	if err != nil {
		return Credentials{}, errs.Wrap(err, "read %s", path)
	}
	if st, err := os.Stat(path); err == nil && st.Mode().Perm()&0o077 != 0 {
		slog.Warn("demo credentials file is readable by others", "path", path, "mode", st.Mode().Perm().String())
	}
	var c Credentials
	if err := json.Unmarshal(b, &c); err != nil || len(c.Users) == 0 {
		return Credentials{}, errs.E(errs.Invalid, "%s is not a demo credentials file", path)
	}
	return c, nil
}
