package auth

import (
	"bufio"
	"context"
	"crypto/rand"
	"crypto/subtle"
	_ "embed"
	"encoding/base64"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/argon2"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Params are argon2id cost parameters, as stored in a PHC string.
type Params struct {
	Memory  uint32 // KiB
	Time    uint32 // passes
	Threads uint8
	SaltLen uint32 // bytes
	KeyLen  uint32 // bytes
}

// DefaultParams is what HashPassword uses: 64 MiB, 2 passes, 1 lane. On the
// reference 2-core server one hash takes 125–165 ms (BenchmarkHashPassword),
// above OWASP's floor (19 MiB × 2 or 46 MiB × 1) while the login throttle
// bounds how many an attacker can make us compute. One lane, because with two
// cores a login using both would stall every other request.
var DefaultParams = Params{Memory: 64 * 1024, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}

// current is the parameter set new hashes use; tests lower it so that a
// storage test does not spend seconds hashing.
var current = DefaultParams

// Limits on parameters read from a stored hash: a corrupt or hostile PHC
// string must not make us allocate gigabytes or loop for minutes.
const (
	maxMemory  = 1024 * 1024 // KiB (1 GiB)
	maxTime    = 32
	maxThreads = 64
	minSaltLen = 8
	maxSaltLen = 64
	minKeyLen  = 16
	maxKeyLen  = 64
)

// Password length limits, in characters. The upper bound only stops absurd
// inputs; hashing cost does not depend on length.
const (
	MinPasswordLen = 12
	MaxPasswordLen = 1024
)

// hashSlots bounds concurrent argon2 computations: each holds 64 MiB, and a
// burst of logins must queue rather than exhaust the server's memory or
// starve other requests of CPU.
var hashSlots = make(chan struct{}, max(1, runtime.GOMAXPROCS(0)))

func derive(pw []byte, salt []byte, p Params) []byte {
	hashSlots <- struct{}{}
	defer func() { <-hashSlots }()
	return argon2.IDKey(pw, salt, p.Time, p.Memory, p.Threads, p.KeyLen)
}

var b64 = base64.RawStdEncoding

// HashPassword returns the argon2id PHC string of pw with a fresh random
// salt: $argon2id$v=19$m=65536,t=2,p=1$<salt>$<hash>. It does not check the
// policy (see CheckPasswordPolicy).
func HashPassword(pw string) (string, error) {
	return hashWith(pw, current)
}

func hashWith(pw string, p Params) (string, error) {
	salt := make([]byte, p.SaltLen)
	if _, err := rand.Read(salt); err != nil {
		return "", errs.Wrap(err, "password salt")
	}
	key := derive([]byte(pw), salt, p)
	return "$argon2id$v=" + strconv.Itoa(argon2.Version) +
		"$m=" + strconv.FormatUint(uint64(p.Memory), 10) +
		",t=" + strconv.FormatUint(uint64(p.Time), 10) +
		",p=" + strconv.FormatUint(uint64(p.Threads), 10) +
		"$" + b64.EncodeToString(salt) + "$" + b64.EncodeToString(key), nil
}

// VerifyPassword reports whether pw matches the PHC string encoded, comparing
// in constant time, and whether the hash should be recomputed because it was
// made with weaker parameters than current ones. A malformed encoded string
// is an error coded Invalid naming the field "password_hash".
func VerifyPassword(encoded, pw string) (ok, needsRehash bool, err error) {
	p, salt, key, err := parsePHC(encoded)
	if err != nil {
		return false, false, err
	}
	got := derive([]byte(pw), salt, p)
	ok = subtle.ConstantTimeCompare(got, key) == 1
	return ok, weaker(p, current), nil
}

// weaker reports whether stored parameters give less protection than want.
// More lanes do not make a hash weaker or stronger, so Threads is ignored.
func weaker(stored, want Params) bool {
	return stored.Memory < want.Memory || stored.Time < want.Time ||
		stored.SaltLen < want.SaltLen || stored.KeyLen < want.KeyLen
}

// burn spends the time of one verification at current cost, so that an
// unknown account or a user without a password answers as slowly as a real
// one and login timing reveals nothing.
func burn(pw string) {
	var salt [16]byte
	derive([]byte(pw), salt[:], current)
}

func badHash(format string, args ...any) error {
	return errs.Field("password_hash", "malformed argon2id hash: "+format, args...)
}

// parsePHC reads $argon2id$v=19$m=M,t=T,p=P$salt$hash (base64 without
// padding, as the reference implementation writes it).
func parsePHC(s string) (p Params, salt, key []byte, err error) {
	parts := strings.Split(s, "$")
	if len(parts) != 6 || parts[0] != "" {
		return p, nil, nil, badHash("want 5 fields separated by $")
	}
	if parts[1] != "argon2id" {
		return p, nil, nil, badHash("algorithm %.20q is not argon2id", parts[1])
	}
	if parts[2] != "v="+strconv.Itoa(argon2.Version) {
		return p, nil, nil, badHash("unsupported version %.20q", parts[2])
	}
	seen := map[byte]bool{}
	for _, kv := range strings.Split(parts[3], ",") {
		k, v, found := strings.Cut(kv, "=")
		if !found || len(k) != 1 || seen[k[0]] || v == "" || len(v) > 10 {
			return p, nil, nil, badHash("bad parameter %.20q", kv)
		}
		seen[k[0]] = true
		n, perr := strconv.ParseUint(v, 10, 32)
		if perr != nil || (len(v) > 1 && v[0] == '0') {
			return p, nil, nil, badHash("bad parameter %.20q", kv)
		}
		switch k[0] {
		case 'm':
			p.Memory = uint32(n)
		case 't':
			p.Time = uint32(n)
		case 'p':
			if n > maxThreads {
				return p, nil, nil, badHash("too many lanes")
			}
			p.Threads = uint8(n)
		default:
			return p, nil, nil, badHash("unknown parameter %.20q", kv)
		}
	}
	if len(seen) != 3 {
		return p, nil, nil, badHash("want m, t and p")
	}
	if p.Threads < 1 || p.Time < 1 || p.Time > maxTime || p.Memory > maxMemory || p.Memory < 8*uint32(p.Threads) {
		return p, nil, nil, badHash("parameters out of range")
	}
	if salt, err = b64.Strict().DecodeString(parts[4]); err != nil || len(salt) < minSaltLen || len(salt) > maxSaltLen {
		return p, nil, nil, badHash("bad salt")
	}
	if key, err = b64.Strict().DecodeString(parts[5]); err != nil || len(key) < minKeyLen || len(key) > maxKeyLen {
		return p, nil, nil, badHash("bad hash")
	}
	p.SaltLen, p.KeyLen = uint32(len(salt)), uint32(len(key))
	return p, salt, key, nil
}

//go:embed common_passwords.txt
var commonList string

var (
	commonOnce sync.Once
	common     map[string]struct{}
)

func commonPasswords() map[string]struct{} {
	commonOnce.Do(func() {
		common = map[string]struct{}{}
		sc := bufio.NewScanner(strings.NewReader(commonList))
		for sc.Scan() {
			if w := strings.ToLower(strings.TrimSpace(sc.Text())); w != "" && !strings.HasPrefix(w, "#") {
				common[w] = struct{}{}
			}
		}
	})
	return common
}

// isCommon reports whether pw (lower case) is a listed password, or one
// dressed up with leading or trailing digits and symbols ("Password2024!",
// "123azerty"), which is how people stretch a short favourite to 12.
func isCommon(lower string) bool {
	list := commonPasswords()
	if _, ok := list[lower]; ok {
		return true
	}
	core := strings.TrimFunc(lower, func(r rune) bool { return !unicode.IsLetter(r) })
	if core == "" || core == lower {
		return false
	}
	_, ok := list[core]
	return ok
}

// CheckPasswordPolicy checks pw for the account with this e-mail and name:
// between MinPasswordLen and MaxPasswordLen characters, not a common or
// keyboard-walk password (case-insensitive), not containing the e-mail's
// local part or the user's name, not one character repeated. It returns nil
// or an error coded Invalid on field "password", one message per problem,
// each with its catalogue key (auth.password.*).
func CheckPasswordPolicy(pw, email, name string) error {
	var f errs.Fields
	if !utf8.ValidString(pw) {
		f.AddKey("password", "auth.password.invalid_utf8")
		return f.Err()
	}
	n := utf8.RuneCountInString(pw)
	switch {
	case n < MinPasswordLen:
		f.AddKey("password", "auth.password.too_short", MinPasswordLen)
	case n > MaxPasswordLen:
		f.AddKey("password", "auth.password.too_long", MaxPasswordLen)
		return f.Err()
	}
	lower := strings.ToLower(pw)
	if isCommon(lower) {
		f.AddKey("password", "auth.password.common")
	}
	if n > 0 && strings.Count(pw, string([]rune(pw)[:1])) == n {
		f.AddKey("password", "auth.password.repeated")
	}
	if containsPersonal(lower, email, name) {
		f.AddKey("password", "auth.password.personal")
	}
	return f.Err()
}

// containsPersonal reports whether the lower-case password contains the
// e-mail local part, the whole name, or one of the name's words of four
// letters or more (shorter words such as "Jo" or "Li" would refuse too many
// unrelated passwords).
func containsPersonal(lower, email, name string) bool {
	local, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(email)), "@")
	if utf8.RuneCountInString(local) >= 3 && strings.Contains(lower, local) {
		return true
	}
	squash := func(s string) string {
		return strings.Map(func(r rune) rune {
			if unicode.IsSpace(r) || r == '-' || r == '.' || r == '_' || r == '\'' {
				return -1
			}
			return r
		}, s)
	}
	name = strings.ToLower(strings.TrimSpace(name))
	if whole := squash(name); utf8.RuneCountInString(whole) >= 3 && strings.Contains(squash(lower), whole) {
		return true
	}
	for _, w := range strings.FieldsFunc(name, func(r rune) bool { return !unicode.IsLetter(r) }) {
		if utf8.RuneCountInString(w) >= 4 && strings.Contains(lower, w) {
			return true
		}
	}
	return false
}

// SetPassword checks pw against the policy for the user's e-mail and name
// (read in tx), hashes it and stores it. It joins the caller's transaction
// (user creation in internal/directory, the CLI) and records no audit entry:
// the caller's entry (user.create, user.password) covers it, and it does not
// end sessions (ChangePassword does).
//
// Errors: Invalid (field "password") when the policy refuses pw; NotFound when
// the user does not exist.
//
// Hashing takes ~125 ms inside the caller's transaction; on SQLite this holds
// the writer for that long, acceptable for the rare user creation.
func SetPassword(ctx context.Context, tx *store.Tx, userID, pw string) error {
	if !validID(userID) {
		return errs.E(errs.NotFound, "user %s", userID)
	}
	var email, name string
	err := tx.QueryRow(ctx, `SELECT email, name FROM users WHERE id = ?`, userID).Scan(&email, &name)
	if err != nil {
		return store.NotFound(err, "user %s", userID)
	}
	if err := CheckPasswordPolicy(pw, email, name); err != nil {
		return err
	}
	h, err := HashPassword(pw)
	if err != nil {
		return err
	}
	_, err = tx.Exec(ctx, `UPDATE users SET password_hash = ?, updated_at = ? WHERE id = ?`, h, tx.Now, userID)
	return err
}
