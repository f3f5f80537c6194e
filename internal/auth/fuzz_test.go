package auth

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/nisduc/nisduc/internal/errs"
)

// FuzzVerifyPassword: a stored hash may be corrupt or come from an import;
// VerifyPassword must answer an error coded Invalid, never panic, never
// accept a hash it cannot parse.
func FuzzVerifyPassword(f *testing.F) {
	good, _ := HashPassword(goodPassword)
	for _, s := range []string{
		good,
		"",
		"$",
		"$argon2id$v=19$m=64,t=1,p=1$c29tZXNhbHRzb21lc2FsdA$" + strings.Repeat("A", 43),
		"$argon2id$v=19$m=64,t=1,p=1$$",
		"$argon2id$v=19$m=,t=,p=$x$y",
		"$argon2id$v=19$m=4294967295,t=4294967295,p=255$AAAAAAAAAAA$AAAAAAAAAAAAAAAAAAAAAA",
		"$argon2i$v=19$m=65536,t=2,p=4$c29tZXNhbHQ$RdescudvJCsgt3ub+b+dWRWJTmaaJObG",
		"$2a$10$N9qo8uLOickgx2ZMRZoMyeIjZAgcfl7p92ldGxad68LJZdL17lhWy",
	} {
		f.Add(s, goodPassword)
	}
	f.Fuzz(func(t *testing.T, encoded, pw string) {
		p, _, _, perr := parsePHC(encoded)
		// Valid but expensive parameters only cost time; the fuzzer need
		// not spend it (the parse above is still exercised).
		if perr == nil && uint64(p.Memory)*uint64(p.Time) > 4096 {
			t.Skip()
		}
		ok, _, err := VerifyPassword(encoded, pw)
		if (err != nil) != (perr != nil) {
			t.Fatalf("VerifyPassword err %v, parse err %v", err, perr)
		}
		if err != nil {
			if ok || !errs.Is(err, errs.Invalid) {
				t.Fatalf("malformed hash: ok=%v err=%v (code %s)", ok, err, errs.CodeOf(err))
			}
			if fs := errs.As(err).Fields; len(fs) != 1 || fs[0].Field != "password_hash" {
				t.Fatalf("fields %+v", fs)
			}
		}
	})
}

// FuzzCheckPasswordPolicy: any input gets nil or an Invalid error on
// "password" with catalogue keys; the length rule holds.
func FuzzCheckPasswordPolicy(f *testing.F) {
	for _, s := range []string{goodPassword, "", "Password2024!", "ÉÉÉÉÉÉÉÉÉÉÉÉÉ", "a\xffb", "1qaz2wsx3edc", "!!!!!!!!!!!!"} {
		f.Add(s, "marie.dupont@ilr.lu", "Marie Dupont")
	}
	f.Fuzz(func(t *testing.T, pw, email, name string) {
		err := CheckPasswordPolicy(pw, email, name)
		if err == nil {
			if n := utf8.RuneCountInString(pw); n < MinPasswordLen || n > MaxPasswordLen || !utf8.ValidString(pw) {
				t.Fatalf("accepted %q (%d characters)", pw, n)
			}
			return
		}
		if !errs.Is(err, errs.Invalid) {
			t.Fatalf("code %s", errs.CodeOf(err))
		}
		for _, fe := range errs.As(err).Fields {
			if fe.Field != "password" || !strings.HasPrefix(fe.Key, "auth.password.") {
				t.Fatalf("field error %+v", fe)
			}
		}
	})
}

// FuzzAddressKey: whatever a proxy header holds, the throttling subject is
// short and stable.
func FuzzAddressKey(f *testing.F) {
	for _, s := range []string{"192.0.2.1", "[2001:db8::1]:443", "::ffff:10.0.0.1", "fe80::1%eth0", "junk", ""} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, addr string) {
		k := addressKey(addr)
		if len(k) > 100 {
			t.Fatalf("key of %d bytes", len(k))
		}
		if addressKey(addr) != k {
			t.Fatal("not deterministic")
		}
	})
}

// FuzzNormCode: typed second-factor codes never panic and come out without
// separators or capitals.
func FuzzNormCode(f *testing.F) {
	for _, s := range []string{"123 456", "ABCD-efgh-2345-6767", "", "１２３"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, code string) {
		n := normCode(code)
		if strings.ContainsAny(n, " -\tABCDEFGHIJKLMNOPQRSTUVWXYZ") {
			t.Fatalf("normCode(%q) = %q", code, n)
		}
		matchTOTP("JBSWY3DPEHPK3PXP", n, testNow)
	})
}
