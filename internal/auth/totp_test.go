package auth

import (
	"context"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// codeAt is what an authenticator app shows at t.
func codeAt(t *testing.T, secret string, at time.Time) string {
	t.Helper()
	c, err := totp.GenerateCodeCustom(secret, at, totpOpts)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// enrol runs BeginTOTP and ConfirmTOTP and returns the secret and codes.
func (f *fixture) enrol(t *testing.T, id string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	secret, _, err := f.svc.BeginTOTP(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	codes, err := f.svc.ConfirmTOTP(ctx, id, codeAt(t, secret, f.now))
	if err != nil {
		t.Fatal(err)
	}
	return secret, codes
}

func TestTOTPEnrolment(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{Issuer: "nisduc ILR"})
		id := f.user(userSpec{email: "totp@ilr.lu"})

		secret, link, err := f.svc.BeginTOTP(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		u, err := url.Parse(link)
		if err != nil || u.Scheme != "otpauth" || u.Host != "totp" || u.Query().Get("secret") != secret ||
			u.Query().Get("issuer") != "nisduc ILR" || !strings.Contains(u.Path, "totp@ilr.lu") ||
			u.Query().Get("digits") != "6" || u.Query().Get("period") != "30" || u.Query().Get("algorithm") != "SHA1" {
			t.Fatalf("otpauth URL %q (%v)", link, err)
		}
		if len(secret) != 32 {
			t.Fatalf("secret %q is not 160 bits of base32", secret)
		}
		if on, _ := f.svc.HasTOTP(ctx, id); on {
			t.Fatal("enabled before confirmation")
		}
		// A new Begin replaces an unconfirmed secret.
		secret, _, _ = f.svc.BeginTOTP(ctx, id)

		for _, bad := range []string{"", "12345", "abcdef", codeAt(t, secret, f.now.Add(-2*time.Minute))} {
			_, err := f.svc.ConfirmTOTP(ctx, id, bad)
			wantField(t, err, "code", "auth.totp.code_wrong")
		}
		codes, err := f.svc.ConfirmTOTP(ctx, id, " "+codeAt(t, secret, f.now)[:3]+" "+codeAt(t, secret, f.now)[3:])
		if err != nil {
			t.Fatal(err)
		}
		form := regexp.MustCompile(`^[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}-[a-z2-7]{4}$`)
		seen := map[string]bool{}
		for _, c := range codes {
			if !form.MatchString(c) || seen[c] {
				t.Fatalf("recovery code %q malformed or repeated", c)
			}
			seen[c] = true
		}
		if len(codes) != RecoveryCodes {
			t.Fatalf("%d recovery codes", len(codes))
		}
		var stored int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM auth_recovery_codes WHERE user_id = ? AND code_hash = ?`, id, codes[0]).Scan(&stored)
		if stored != 0 {
			t.Fatal("a recovery code is stored in clear")
		}
		if on, _ := f.svc.HasTOTP(ctx, id); !on {
			t.Fatal("not enabled after confirmation")
		}
		if n := f.audited("auth.totp.enable", id); n != 1 {
			t.Fatalf("%d auth.totp.enable entries", n)
		}
		_, _, err = f.svc.BeginTOTP(ctx, id)
		wantCode(t, err, errs.Conflict, "auth.totp.already_enabled")
		_, err = f.svc.ConfirmTOTP(ctx, id, codeAt(t, secret, f.now))
		wantCode(t, err, errs.Conflict, "auth.totp.already_enabled")

		other := f.user(userSpec{email: "nostart@ilr.lu"})
		_, err = f.svc.ConfirmTOTP(ctx, other, "123456")
		wantCode(t, err, errs.Conflict, "auth.totp.not_started")
		_, _, err = f.svc.BeginTOTP(ctx, "6f1c4b0e-0000-4000-8000-00000000dead")
		wantCode(t, err, errs.NotFound, "")
	})
}

func TestVerifySecondFactor(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "v@ncsc.nl"})
		secret, codes := f.enrol(t, id)

		// The code used to confirm cannot be used again to sign in.
		err := f.svc.VerifySecondFactor(ctx, id, codeAt(t, secret, f.now))
		wantCode(t, err, errs.Unauthenticated, "auth.totp.wrong")

		f.advance(30 * time.Second)
		now := codeAt(t, secret, f.now)
		if err := f.svc.VerifySecondFactor(ctx, id, now); err != nil {
			t.Fatalf("fresh code: %v", err)
		}
		// Replay of the same code within its validity: refused.
		wantCode(t, f.svc.VerifySecondFactor(ctx, id, now), errs.Unauthenticated, "")

		// One step of drift either side is accepted; older steps are not.
		f.advance(90 * time.Second)
		if err := f.svc.VerifySecondFactor(ctx, id, codeAt(t, secret, f.now.Add(-30*time.Second))); err != nil {
			t.Fatalf("code of the previous step: %v", err)
		}
		wantCode(t, f.svc.VerifySecondFactor(ctx, id, codeAt(t, secret, f.now.Add(-60*time.Second))), errs.Unauthenticated, "")
		if err := f.svc.VerifySecondFactor(ctx, id, codeAt(t, secret, f.now.Add(30*time.Second))); err != nil {
			t.Fatalf("code of the next step: %v", err)
		}
		// Having used the next step, the current one is now in the past.
		wantCode(t, f.svc.VerifySecondFactor(ctx, id, codeAt(t, secret, f.now)), errs.Unauthenticated, "")

		// Recovery codes: accepted once, however typed.
		typed := " " + strings.ToUpper(strings.ReplaceAll(codes[3], "-", " ")) + " "
		if err := f.svc.VerifySecondFactor(ctx, id, typed); err != nil {
			t.Fatalf("recovery code: %v", err)
		}
		wantCode(t, f.svc.VerifySecondFactor(ctx, id, codes[3]), errs.Unauthenticated, "")
		if n, _ := f.svc.RecoveryCodesLeft(ctx, id); n != RecoveryCodes-1 {
			t.Fatalf("%d recovery codes left", n)
		}
		if n := f.audited("auth.recovery_code.use", id); n != 1 {
			t.Fatalf("%d auth.recovery_code.use entries", n)
		}
		wantCode(t, f.svc.VerifySecondFactor(ctx, id, "aaaa-bbbb-cccc-dddd"), errs.Unauthenticated, "")
		wantCode(t, f.svc.VerifySecondFactor(ctx, "nope", "123456"), errs.Unauthenticated, "")

		// Disabling removes the factor and its codes.
		if err := f.svc.DisableTOTP(ctx, id); err != nil {
			t.Fatal(err)
		}
		if on, _ := f.svc.HasTOTP(ctx, id); on {
			t.Fatal("still enabled")
		}
		if n, _ := f.svc.RecoveryCodesLeft(ctx, id); n != 0 {
			t.Fatalf("%d recovery codes left after disable", n)
		}
		if n := f.audited("auth.totp.disable", id); n != 1 {
			t.Fatalf("%d auth.totp.disable entries", n)
		}
		wantCode(t, f.svc.VerifySecondFactor(ctx, id, codes[4]), errs.Conflict, "auth.totp.not_enabled")
		wantCode(t, f.svc.DisableTOTP(ctx, "6f1c4b0e-0000-4000-8000-00000000dead"), errs.NotFound, "")

		// Enrolling again works and issues new codes.
		_, again := f.enrol(t, id)
		if again[0] == codes[0] {
			t.Fatal("re-enrolment reused recovery codes")
		}
	})
}

func TestSecondFactorThrottle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "th@ncsc.nl"})
		secret, codes := f.enrol(t, id)
		f.advance(time.Minute)
		for range 5 {
			wantCode(t, f.svc.VerifySecondFactor(ctx, id, "000000"), errs.Unauthenticated, "")
		}
		err := f.svc.VerifySecondFactor(ctx, id, codeAt(t, secret, f.now))
		wantCode(t, err, errs.TooMany, "auth.throttled")
		wantCode(t, f.svc.VerifySecondFactor(ctx, id, codes[0]), errs.TooMany, "")
		f.advance(15 * time.Minute)
		if err := f.svc.VerifySecondFactor(ctx, id, codeAt(t, secret, f.now)); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

// A clock in Config drives TOTP independently of the store's.
func TestTOTPClock(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		app := f.now.Add(48 * time.Hour)
		svc := New(db, f.svc.log, Config{Clock: func() time.Time { return app }})
		id := f.user(userSpec{email: "clock@ncsc.nl"})
		secret, _, _ := svc.BeginTOTP(ctx, id)
		if _, err := svc.ConfirmTOTP(ctx, id, codeAt(t, secret, f.now)); !errs.Is(err, errs.Invalid) {
			t.Fatalf("code at the store's time accepted under another clock: %v", err)
		}
		if _, err := svc.ConfirmTOTP(ctx, id, codeAt(t, secret, app)); err != nil {
			t.Fatalf("code at the configured clock: %v", err)
		}
	})
}

func TestSecondFactorRequired(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		demo := New(db, f.svc.log, Config{DemoMode: true})
		tests := []struct {
			name       string
			a          *authz.Actor
			want, all  bool // all: with auth.require_totp_all = true
			demoWanted bool
		}{
			{"anonymous", nil, false, false, false},
			{"cli", authz.CLI("root"), false, false, false},
			{"platform admin in an operator", &authz.Actor{OrgKind: authz.OES, Roles: []authz.Role{authz.PlatformAdmin}}, true, true, false},
			{"NCA analyst", &authz.Actor{OrgKind: authz.NCA, Roles: []authz.Role{authz.AuthorityAnalyst}}, true, true, false},
			{"CSIRT observer", &authz.Actor{OrgKind: authz.CSIRT, Roles: []authz.Role{authz.Observer}}, true, true, false},
			{"operator risk manager", &authz.Actor{OrgKind: authz.OES, Roles: []authz.Role{authz.RiskManager}}, false, true, false},
			{"DSP read-only", &authz.Actor{OrgKind: authz.DSP, Roles: []authz.Role{authz.ReadOnly}}, false, true, false},
		}
		check := func(all bool) {
			for _, tt := range tests {
				want := tt.want
				if all {
					want = tt.all
				}
				if got, err := f.svc.SecondFactorRequired(ctx, tt.a); err != nil || got != want {
					t.Errorf("%s (all=%v): %v, %v; want %v", tt.name, all, got, err, want)
				}
				if got, _ := demo.SecondFactorRequired(ctx, tt.a); got != tt.demoWanted {
					t.Errorf("%s in demo mode: %v", tt.name, got)
				}
			}
		}
		check(false)
		f.exec(`INSERT INTO settings (key, value, updated_at) VALUES (?, 'false', ?)`, SettingRequireTOTPAll, f.now)
		check(false)
		f.exec(`UPDATE settings SET value = 'true' WHERE key = ?`, SettingRequireTOTPAll)
		check(true)
	})
}

func TestMatchTOTP(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	at := time.Date(2026, 5, 1, 12, 0, 15, 0, time.UTC)
	step := at.Unix() / 30
	tests := []struct {
		name string
		code string
		ok   bool
		step int64
	}{
		{"current", codeAt(t, secret, at), true, step},
		{"previous", codeAt(t, secret, at.Add(-30*time.Second)), true, step - 1},
		{"next", codeAt(t, secret, at.Add(30*time.Second)), true, step + 1},
		{"two back", codeAt(t, secret, at.Add(-60*time.Second)), false, 0},
		{"seven digits", codeAt(t, secret, at) + "0", false, 0},
		{"letters", "12a456", false, 0},
		{"fullwidth digits", "１２３４５６", false, 0},
	}
	for _, tt := range tests {
		got, ok := matchTOTP(secret, tt.code, at)
		if ok != tt.ok || (ok && got != tt.step) {
			t.Errorf("%s: step %d, %v; want %d, %v", tt.name, got, ok, tt.step, tt.ok)
		}
	}
	// RFC 6238 appendix B, SHA-1, truncated to 6 digits: the app and we agree.
	rfc := "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ" // "12345678901234567890"
	if step, ok := matchTOTP(rfc, "287082", time.Unix(59, 0)); !ok || step != 1 {
		t.Fatalf("RFC 6238 vector at T=59: %d, %v", step, ok)
	}
	if _, ok := matchTOTP(rfc, "081804", time.Unix(1111111109, 0)); !ok {
		t.Fatal("RFC 6238 vector at T=1111111109")
	}
}
