// Package auth signs people and programs in: argon2id password hashing and
// policy, login throttling kept in the database (so that several server
// processes share it), server-side sessions, a TOTP second factor with
// recovery codes, API tokens, and the actor of each request.
//
// The pure password functions (HashPassword, VerifyPassword,
// CheckPasswordPolicy) and SetPassword are package-level so that
// internal/directory and the CLI use them without a Service.
package auth

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/store"
)

// Config tunes sessions, throttling and tokens; zero fields take the
// defaults named on each.
type Config struct {
	// IdleTimeout ends a session unused for this long (30 min).
	IdleTimeout time.Duration
	// SessionLifetime ends a session this long after sign-in, used or not (12 h).
	SessionLifetime time.Duration
	// FailureWindow is the throttling window (15 min); within it an account
	// may fail MaxAccountFailures times (5), a client address
	// MaxAddressFailures times (30) and a second factor MaxCodeFailures
	// times (5).
	FailureWindow      time.Duration
	MaxAccountFailures int
	MaxAddressFailures int
	MaxCodeFailures    int
	// TokenTTL is an API token's lifetime when none is asked for (90 days).
	TokenTTL time.Duration
	// Issuer names the platform in authenticator apps ("nisduc").
	Issuer string
	// DemoMode turns the second-factor requirement off (the demo's login
	// page says so).
	DemoMode bool
	// Clock is the time used to check TOTP codes; nil means the store's
	// clock (db.Now), so that tests move both together.
	Clock func() time.Time
}

// MaxTokenTTL is the longest an API token may live.
const MaxTokenTTL = 366 * 24 * time.Hour

func (c Config) withDefaults() Config {
	def := func(d *time.Duration, v time.Duration) {
		if *d <= 0 {
			*d = v
		}
	}
	defN := func(n *int, v int) {
		if *n <= 0 {
			*n = v
		}
	}
	def(&c.IdleTimeout, 30*time.Minute)
	def(&c.SessionLifetime, 12*time.Hour)
	def(&c.FailureWindow, 15*time.Minute)
	def(&c.TokenTTL, 90*24*time.Hour)
	defN(&c.MaxAccountFailures, 5)
	defN(&c.MaxAddressFailures, 30)
	defN(&c.MaxCodeFailures, 5)
	if c.TokenTTL > MaxTokenTTL {
		c.TokenTTL = MaxTokenTTL
	}
	if c.Issuer == "" {
		c.Issuer = "nisduc"
	}
	return c
}

// Service signs users in and keeps their sessions and tokens.
type Service struct {
	db  *store.DB
	log *audit.Log
	cfg Config
}

// New returns a Service on db recording changes in log.
func New(db *store.DB, log *audit.Log, cfg Config) *Service {
	return &Service{db: db, log: log, cfg: cfg.withDefaults()}
}

// Config returns the effective configuration (defaults filled in), e.g. for
// the login page to say whether this is the demo.
func (s *Service) Config() Config { return s.cfg }

// now is the store's clock in UTC, at the precision transactions use.
func (s *Service) now() time.Time { return s.db.Now().UTC().Truncate(time.Microsecond) }

// clock is the TOTP clock.
func (s *Service) clock() time.Time {
	if s.cfg.Clock != nil {
		return s.cfg.Clock().UTC()
	}
	return s.db.Now().UTC()
}

// sha256Hex is how every bearer secret (session token, API token, recovery
// code) is kept: the secrets are random and long, so a fast hash suffices
// and lets us look them up by equality.
func sha256Hex(s string) string {
	h := sha256.Sum256([]byte(s))
	return hex.EncodeToString(h[:])
}

// validID reports whether id is a UUID; PostgreSQL rejects anything else in
// a UUID column with an error that would surface as an internal one.
func validID(id string) bool {
	_, err := uuid.Parse(id)
	return err == nil && len(id) == 36
}

// touchEvery is how stale last_seen_at / last_used_at may get before a read
// writes it: a page view must not be a write.
const touchEvery = time.Minute

// anyTime scans a timestamp that a driver may hand over as text: SQLite
// returns expressions and RETURNING columns without their declared type.
type anyTime time.Time

func (t *anyTime) Scan(v any) error {
	switch x := v.(type) {
	case time.Time:
		*t = anyTime(x.UTC())
		return nil
	case string:
		return t.parse(x)
	case []byte:
		return t.parse(string(x))
	}
	return fmt.Errorf("cannot scan %T into a time", v)
}

func (t *anyTime) parse(s string) error {
	for _, f := range []string{"2006-01-02 15:04:05.999999999-07:00", time.RFC3339Nano, "2006-01-02 15:04:05.999999999"} {
		if v, err := time.Parse(f, s); err == nil {
			*t = anyTime(v.UTC())
			return nil
		}
	}
	return fmt.Errorf("cannot parse time %q", s)
}
