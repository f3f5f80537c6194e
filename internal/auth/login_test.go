package auth

import (
	"context"
	"database/sql"
	"sync"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

func TestAuthenticate(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "luc@ilr.lu", password: goodPassword})
		f.user(userSpec{email: "off@ilr.lu", password: goodPassword, disabled: true})
		f.user(userSpec{email: "nopw@ilr.lu"})

		failures := []struct{ name, email, pw string }{
			{"wrong password", "luc@ilr.lu", goodPassword + "!"},
			{"unknown e-mail", "nobody@ilr.lu", goodPassword},
			{"disabled user, right password", "off@ilr.lu", goodPassword},
			{"user without password", "nopw@ilr.lu", ""},
			{"empty", "", ""},
			{"absurdly long password", "luc@ilr.lu", string(make([]byte, maxPasswordBytes+1))},
		}
		for _, tt := range failures {
			t.Run(tt.name, func(t *testing.T) {
				got, err := f.svc.Authenticate(ctx, tt.email, tt.pw, "192.0.2.1")
				if got != "" {
					t.Fatalf("returned user %q on failure", got)
				}
				// One error for every reason: nothing tells accounts apart.
				wantCode(t, err, errs.Unauthenticated, "auth.login.failed")
			})
		}

		got, err := f.svc.Authenticate(ctx, "  LUC@ilr.LU ", goodPassword, "192.0.2.1")
		if err != nil || got != id {
			t.Fatalf("login = %q, %v; want %s", got, err, id)
		}
		var last sql.NullTime
		if err := db.QueryRow(ctx, `SELECT last_login_at FROM users WHERE id = ?`, id).Scan(&last); err != nil {
			t.Fatal(err)
		}
		if !last.Valid || !last.Time.Equal(f.now) {
			t.Fatalf("last_login_at = %v, want %v", last, f.now)
		}
		if n := f.audited("auth.login", id); n != 1 {
			t.Fatalf("%d auth.login entries, want 1", n)
		}
		var failedAudits int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM audit_log WHERE action = 'auth.login' AND object_id <> ?`, id).Scan(&failedAudits)
		if failedAudits != 0 {
			t.Fatalf("failures were audited: %d entries", failedAudits)
		}
	})
}

func TestLoginThrottlePerAccount(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "eva@cert.lu", password: goodPassword})
		login := func(pw, addr string) error {
			_, err := f.svc.Authenticate(ctx, "eva@cert.lu", pw, addr)
			return err
		}

		// Four failures, then a success resets the counter.
		for i := range 4 {
			wantCode(t, login("wrong password "+string(rune('a'+i)), "192.0.2.10"), errs.Unauthenticated, "")
		}
		if err := login(goodPassword, "192.0.2.10"); err != nil {
			t.Fatalf("login after 4 failures: %v", err)
		}
		// Five failures (from several addresses: the account is what counts).
		for i := range 5 {
			wantCode(t, login("wrong", "198.51.100."+string(rune('1'+i))), errs.Unauthenticated, "")
		}
		// The sixth attempt is refused, even with the right password.
		err := login(goodPassword, "203.0.113.9")
		wantCode(t, err, errs.TooMany, "auth.throttled")
		wait, ok := RetryAfter(err, f.now)
		if !ok || wait != 15*time.Minute {
			t.Fatalf("RetryAfter = %v, %v; want 15m", wait, ok)
		}
		if e := errs.As(err); len(e.Args) != 1 || e.Args[0] != 15 {
			t.Fatalf("message args %v, want [15] minutes", e.Args)
		}

		// Refused attempts are answered from a read: the counter stays put.
		for range 3 {
			wantCode(t, login("wrong", "203.0.113.9"), errs.TooMany, "")
		}
		var failures int
		db.QueryRow(ctx, `SELECT failures FROM auth_throttle WHERE scope = 'account' AND subject = ?`, accountKey("eva@cert.lu")).Scan(&failures)
		if failures != 5 {
			t.Fatalf("account counter = %d after refused attempts, want 5", failures)
		}

		f.advance(10 * time.Minute)
		err = login(goodPassword, "203.0.113.9")
		if wait, _ := RetryAfter(err, f.now); !errs.Is(err, errs.TooMany) || wait != 5*time.Minute {
			t.Fatalf("after 10 min: %v, retry in %v; want throttled 5m more", err, wait)
		}

		// Once the window has passed, the right password works again.
		f.advance(5 * time.Minute)
		if got, err := f.svc.Authenticate(ctx, "eva@cert.lu", goodPassword, "203.0.113.9"); err != nil || got != id {
			t.Fatalf("after the window: %q, %v", got, err)
		}

		// An unknown e-mail is throttled exactly like a real one, so the
		// throttle does not reveal which accounts exist.
		for range 5 {
			_, err := f.svc.Authenticate(ctx, "ghost@cert.lu", goodPassword, "192.0.2.77")
			wantCode(t, err, errs.Unauthenticated, "")
		}
		_, err = f.svc.Authenticate(ctx, "ghost@cert.lu", goodPassword, "192.0.2.77")
		wantCode(t, err, errs.TooMany, "")
	})
}

func TestLoginThrottlePerAddress(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{MaxAddressFailures: 4})
		f.user(userSpec{email: "office@oes.lu", password: goodPassword})

		// Successes from an office's shared address use none of its budget.
		for range 10 {
			if _, err := f.svc.Authenticate(ctx, "office@oes.lu", goodPassword, "2001:db8:1:2::10"); err != nil {
				t.Fatalf("success from shared address: %v", err)
			}
		}
		// Four failures on four different accounts from one /64 ...
		for i, addr := range []string{"2001:db8:1:2::1", "[2001:db8:1:2::2]:443", "2001:db8:1:2:ffff::3", "2001:db8:1:2::4"} {
			_, err := f.svc.Authenticate(ctx, "user"+string(rune('a'+i))+"@oes.lu", "wrong", addr)
			wantCode(t, err, errs.Unauthenticated, "")
		}
		// ... and that /64 is refused, even for a right password.
		_, err := f.svc.Authenticate(ctx, "office@oes.lu", goodPassword, "2001:db8:1:2::99")
		wantCode(t, err, errs.TooMany, "")
		// Another address is not.
		if _, err := f.svc.Authenticate(ctx, "office@oes.lu", goodPassword, "2001:db8:1:3::1"); err != nil {
			t.Fatalf("other /64: %v", err)
		}
		f.advance(15 * time.Minute)
		if _, err := f.svc.Authenticate(ctx, "office@oes.lu", goodPassword, "2001:db8:1:2::99"); err != nil {
			t.Fatalf("after the window: %v", err)
		}
	})
}

// Guesses sent in parallel are all counted: a throttle that checks and then
// records would let a burst through.
func TestLoginThrottleParallel(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		f.user(userSpec{email: "target@ncsc.nl", password: goodPassword})
		const n = 16
		codes := make(chan errs.Code, n)
		var wg sync.WaitGroup
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := f.svc.Authenticate(ctx, "target@ncsc.nl", "guess "+string(rune('a'+i)), "192.0.2.50")
				codes <- errs.CodeOf(err)
			}()
		}
		wg.Wait()
		close(codes)
		count := map[errs.Code]int{}
		for c := range codes {
			count[c]++
		}
		if count[errs.Unauthenticated] != 5 || count[errs.TooMany] != n-5 {
			t.Fatalf("outcomes %v; want exactly 5 checked guesses", count)
		}
	})
}

func TestAddressKey(t *testing.T) {
	tests := map[string]string{
		"192.0.2.1":               "192.0.2.1",
		"192.0.2.1:5555":          "192.0.2.1",
		"::ffff:192.0.2.1":        "192.0.2.1",
		"2001:db8::1":             "2001:db8::/64",
		"[2001:db8::1%eth0]:80":   "2001:db8::/64",
		"2001:db8:0:0:ffff::1":    "2001:db8::/64",
		" 192.0.2.1 ":             "192.0.2.1",
		"unix-socket":             "unix-socket",
		"":                        "",
		string(make([]byte, 300)): string(make([]byte, 100)),
	}
	for in, want := range tests {
		if got := addressKey(in); got != want {
			t.Errorf("addressKey(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestRehashOnLogin(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "old@oes.lu"})
		weak, _ := hashWith(goodPassword, Params{Memory: current.Memory / 2, Time: 1, Threads: 1, SaltLen: 16, KeyLen: 32})
		f.exec(`UPDATE users SET password_hash = ? WHERE id = ?`, weak, id)
		if _, err := f.svc.Authenticate(ctx, "old@oes.lu", goodPassword, "192.0.2.1"); err != nil {
			t.Fatal(err)
		}
		var h string
		db.QueryRow(ctx, `SELECT password_hash FROM users WHERE id = ?`, id).Scan(&h)
		ok, rehash, err := VerifyPassword(h, goodPassword)
		if h == weak || !ok || rehash || err != nil {
			t.Fatalf("after login: changed=%v ok=%v rehash=%v err=%v", h != weak, ok, rehash, err)
		}
	})
}

func TestChangePassword(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "jan.peeters@ccb.be", name: "Jan Peeters", password: goodPassword})
		_, keep, err := f.svc.CreateSession(ctx, id, "192.0.2.1", "ua", true)
		if err != nil {
			t.Fatal(err)
		}
		otherTok, _, _ := f.svc.CreateSession(ctx, id, "192.0.2.2", "ua", true)
		const newPw = "seven green frogs on a log"

		tests := []struct {
			name, old, new, field, key string
		}{
			{"wrong current", "not it at all", newPw, "old_password", "auth.password.old_wrong"},
			{"policy", goodPassword, "short", "new_password", "auth.password.too_short"},
			{"policy checked before the current password", "not it at all", "short", "new_password", "auth.password.too_short"},
			{"personal", goodPassword, "peeters peeters peeters", "new_password", "auth.password.personal"},
			{"unchanged", goodPassword, goodPassword, "new_password", "auth.password.same"},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				wantField(t, f.svc.ChangePassword(ctx, id, tt.old, tt.new, keep.ID), tt.field, tt.key)
			})
		}
		if err := f.svc.ChangePassword(ctx, id, goodPassword, newPw, keep.ID); err != nil {
			t.Fatalf("change: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "jan.peeters@ccb.be", goodPassword, "192.0.2.1"); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("old password still works: %v", err)
		}
		if _, err := f.svc.Authenticate(ctx, "jan.peeters@ccb.be", newPw, "192.0.2.1"); err != nil {
			t.Fatalf("new password: %v", err)
		}
		// The other session ended; the one that made the change did not.
		if _, err := f.svc.LookupSession(ctx, otherTok); !errs.Is(err, errs.Unauthenticated) {
			t.Fatalf("other session survived: %v", err)
		}
		var n int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM auth_sessions WHERE id = ?`, keep.ID).Scan(&n)
		if n != 1 {
			t.Fatal("the session making the change was ended")
		}
		if n := f.audited("user.password", id); n != 1 {
			t.Fatalf("%d user.password entries, want 1", n)
		}
		wantCode(t, f.svc.ChangePassword(ctx, "not-a-uuid", newPw, goodPassword, ""), errs.Unauthenticated, "")

		// Guessing the current password is throttled like a login: five
		// wrong guesses, then even the right one is refused.
		for range 5 {
			wantField(t, f.svc.ChangePassword(ctx, id, "guess guess guess", "another fine passphrase", ""), "old_password", "")
		}
		wantCode(t, f.svc.ChangePassword(ctx, id, newPw, "another fine passphrase", ""), errs.TooMany, "auth.throttled")
	})
}
