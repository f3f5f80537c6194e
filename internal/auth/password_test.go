package auth

import (
	"context"
	"regexp"
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

var phcForm = regexp.MustCompile(`^\$argon2id\$v=19\$m=\d+,t=\d+,p=\d+\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$`)

func TestHashRoundTrip(t *testing.T) {
	for _, pw := range []string{goodPassword, "Ça fait déjà longtemps, 東京", strings.Repeat("x", MaxPasswordLen)} {
		h, err := HashPassword(pw)
		if err != nil {
			t.Fatal(err)
		}
		if !phcForm.MatchString(h) {
			t.Fatalf("hash %q is not a PHC argon2id string", h)
		}
		ok, rehash, err := VerifyPassword(h, pw)
		if err != nil || !ok || rehash {
			t.Fatalf("verify right password: ok=%v rehash=%v err=%v", ok, rehash, err)
		}
		ok, _, err = VerifyPassword(h, pw+" ")
		if err != nil || ok {
			t.Fatalf("verify wrong password: ok=%v err=%v", ok, err)
		}
		h2, _ := HashPassword(pw)
		if h2 == h {
			t.Fatal("two hashes of one password are equal: salt not random")
		}
	}
}

func TestDefaultParamsAreTheDocumentedOnes(t *testing.T) {
	// The doc comment and the report quote these figures; changing them is a
	// decision, not an accident.
	if DefaultParams != (Params{Memory: 65536, Time: 2, Threads: 1, SaltLen: 16, KeyLen: 32}) {
		t.Fatalf("DefaultParams = %+v", DefaultParams)
	}
	if DefaultParams.Memory < 19456 || (DefaultParams.Memory < 47104 && DefaultParams.Time < 2) {
		t.Fatal("DefaultParams below OWASP's minimum")
	}
}

func TestNeedsRehash(t *testing.T) {
	d := DefaultParams
	tests := []struct {
		name string
		p    Params
		want bool
	}{
		{"same", d, false},
		{"less memory", Params{d.Memory / 2, d.Time, 1, 16, 32}, true},
		{"fewer passes", Params{d.Memory, d.Time - 1, 1, 16, 32}, true},
		{"shorter key", Params{d.Memory, d.Time, 1, 16, 16}, true},
		{"shorter salt", Params{d.Memory, d.Time, 1, 8, 32}, true},
		{"stronger", Params{d.Memory * 2, d.Time + 1, 1, 16, 32}, false},
		{"more lanes", Params{d.Memory, d.Time, 4, 16, 32}, false},
		{"OWASP minimum", Params{19456, 2, 1, 16, 32}, true},
	}
	for _, tt := range tests {
		if got := weaker(tt.p, d); got != tt.want {
			t.Errorf("%s: weaker = %v, want %v", tt.name, got, tt.want)
		}
	}
	// Through VerifyPassword, against the parameters in force.
	for _, tt := range []struct {
		name string
		p    Params
		want bool
	}{
		{"current", current, false},
		{"half the memory", Params{current.Memory / 2, current.Time, 1, 16, 32}, true},
		{"more memory", Params{current.Memory * 2, current.Time, 1, 16, 32}, false},
	} {
		h, err := hashWith(goodPassword, tt.p)
		if err != nil {
			t.Fatal(err)
		}
		ok, rehash, err := VerifyPassword(h, goodPassword)
		if err != nil || !ok || rehash != tt.want {
			t.Errorf("%s: ok=%v rehash=%v err=%v; want rehash=%v", tt.name, ok, rehash, err, tt.want)
		}
	}
}

func TestVerifyMalformed(t *testing.T) {
	good, _ := HashPassword(goodPassword)
	parts := strings.Split(good, "$")
	with := func(i int, v string) string {
		p := append([]string(nil), parts...)
		p[i] = v
		return strings.Join(p, "$")
	}
	tests := map[string]string{
		"empty":          "",
		"bcrypt":         "$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
		"argon2i":        with(1, "argon2i"),
		"version 16":     with(2, "v=16"),
		"no params":      with(3, ""),
		"missing p":      with(3, "m=64,t=1"),
		"duplicate m":    with(3, "m=64,m=64,t=1"),
		"unknown param":  with(3, "m=64,t=1,x=1"),
		"zero time":      with(3, "m=64,t=0,p=1"),
		"zero lanes":     with(3, "m=64,t=1,p=0"),
		"huge memory":    with(3, "m=4294967295,t=1,p=1"),
		"huge time":      with(3, "m=64,t=100000,p=1"),
		"huge lanes":     with(3, "m=64,t=1,p=255"),
		"memory < 8p":    with(3, "m=8,t=1,p=2"),
		"negative":       with(3, "m=-64,t=1,p=1"),
		"leading zero":   with(3, "m=064,t=1,p=1"),
		"salt not b64":   with(4, "!!!!"),
		"salt too short": with(4, "AAAA"),
		"hash too short": with(5, "AAAA"),
		"padded hash":    with(5, parts[5]+"="),
		"extra field":    good + "$x",
		"no leading $":   strings.TrimPrefix(good, "$"),
	}
	for name, enc := range tests {
		t.Run(name, func(t *testing.T) {
			ok, _, err := VerifyPassword(enc, goodPassword)
			if ok {
				t.Fatal("malformed hash verified")
			}
			wantField(t, err, "password_hash", "")
		})
	}
}

func TestCheckPasswordPolicy(t *testing.T) {
	const email, name = "marie.dupont@ilr.lu", "Marie Dupont"
	tests := []struct {
		name, pw string
		key      string // "" = accepted
	}{
		{"passphrase", goodPassword, ""},
		{"unicode", "Ça fait déjà longtemps", ""},
		{"exactly 12", "kP9#vL2!qR7z", ""},
		{"too short", "kP9#vL2!qR7", "auth.password.too_short"},
		{"empty", "", "auth.password.too_short"},
		{"11 runes of 2 bytes", strings.Repeat("é", 11), "auth.password.too_short"},
		{"too long", strings.Repeat("ab", MaxPasswordLen/2) + "c", "auth.password.too_long"},
		{"common", "passwordpassword", "auth.password.common"},
		{"common, other case", "PassWordPassWord", "auth.password.common"},
		{"common dressed up", "Password2024!", "auth.password.common"},
		{"common dressed up front", "123456Azerty", "auth.password.common"},
		{"qwerty walk", "qwertyuiopasdf", "auth.password.common"},
		{"azerty walk", "azertyuiopqsdf", "auth.password.common"},
		{"qwertz walk", "qwertzuiopasdf", "auth.password.common"},
		{"column walk", "1qaz2wsx3edc", "auth.password.common"},
		{"digit run", "123456789012", "auth.password.common"},
		{"motdepasse", "Motdepasse2026", "auth.password.common"},
		{"repeated", "ÉÉÉÉÉÉÉÉÉÉÉÉÉ", "auth.password.repeated"},
		{"email local part", "my marie.dupont secret", "auth.password.personal"},
		{"surname", "xx-DUPONT-rocks-99", "auth.password.personal"},
		{"whole name squashed", "mariedupont!!77", "auth.password.personal"},
		{"invalid utf-8", "abcdefghijkl\xff", "auth.password.invalid_utf8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := CheckPasswordPolicy(tt.pw, email, name)
			if tt.key == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				return
			}
			wantField(t, err, "password", tt.key)
			if !i18n.Has(tt.key) {
				t.Fatalf("key %s missing from the catalogue", tt.key)
			}
		})
	}
	// A short name word does not refuse unrelated passwords.
	if err := CheckPasswordPolicy("a journey of ten miles", "jo@x.lu", "Jo Li"); err != nil {
		t.Fatalf("short name words refused a password: %v", err)
	}
}

func TestCommonListLoaded(t *testing.T) {
	list := commonPasswords()
	if len(list) < 1000 {
		t.Fatalf("only %d common passwords loaded", len(list))
	}
	for _, w := range []string{"123456", "password", "azerty", "qwertz", "wachtwoord", "1q2w3e4r5t6y"} {
		if _, ok := list[w]; !ok {
			t.Errorf("%q missing from the list", w)
		}
	}
	for w := range list {
		if w != strings.ToLower(w) || strings.TrimSpace(w) != w {
			t.Errorf("entry %q not normalised", w)
		}
	}
}

func TestSetPassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "anna.schmidt@bsi.de", name: "Anna Schmidt"})
		tests := []struct {
			name, user, pw string
			code           errs.Code
		}{
			{"policy uses the stored e-mail", id, "anna.schmidt is me", errs.Invalid},
			{"policy uses the stored name", id, "schmidt forever and ever", errs.Invalid},
			{"unknown user", "6f1c4b0e-0000-4000-8000-00000000dead", goodPassword, errs.NotFound},
			{"not a uuid", "nope", goodPassword, errs.NotFound},
			{"ok", id, goodPassword, ""},
		}
		for _, tt := range tests {
			err := db.Update(ctx, func(tx *store.Tx) error { return SetPassword(ctx, tx, tt.user, tt.pw) })
			if errs.CodeOf(err) != tt.code {
				t.Fatalf("%s: got %v, want code %q", tt.name, err, tt.code)
			}
		}
		var h string
		if err := db.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = ?`, id).Scan(&h); err != nil {
			t.Fatal(err)
		}
		if ok, _, err := VerifyPassword(h, goodPassword); !ok || err != nil {
			t.Fatalf("stored hash does not verify: %v", err)
		}
	})
}
