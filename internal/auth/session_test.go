package auth

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

func TestSessionLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "s@oes.lu", password: goodPassword})
		ua := strings.Repeat("Mozilla/5.0 ", 100)
		tok, sess, err := f.svc.CreateSession(ctx, id, "192.0.2.1", ua, false)
		if err != nil {
			t.Fatal(err)
		}
		if len(tok) != 43 || strings.ContainsAny(tok, "+/=") {
			t.Fatalf("token %q is not 32 bytes of base64url", tok)
		}
		if sess.UserID != id || !sess.CreatedAt.Equal(f.now) || !sess.ExpiresAt.Equal(f.now.Add(12*time.Hour)) ||
			sess.SecondFactorDone || sess.Addr != "192.0.2.1" || len(sess.UserAgent) != 512 {
			t.Fatalf("session = %+v", sess)
		}
		// Only the token's hash is stored.
		var stored string
		db.QueryRow(ctx, `SELECT token_hash FROM auth_sessions WHERE id = ?`, sess.ID).Scan(&stored)
		if stored == tok || stored != sha256Hex(tok) {
			t.Fatalf("stored %q for token %q", stored, tok)
		}

		got, err := f.svc.LookupSession(ctx, tok)
		if err != nil || got.ID != sess.ID || got.UserID != id {
			t.Fatalf("lookup = %+v, %v", got, err)
		}
		lastSeen := func() time.Time {
			var ts time.Time
			db.QueryRow(ctx, `SELECT last_seen_at FROM auth_sessions WHERE id = ?`, sess.ID).Scan(&ts)
			return ts.UTC()
		}
		// A page view within the minute does not write last_seen_at ...
		f.advance(30 * time.Second)
		if _, err := f.svc.LookupSession(ctx, tok); err != nil {
			t.Fatal(err)
		}
		if !lastSeen().Equal(sess.CreatedAt) {
			t.Fatalf("last_seen_at written after 30 s: %v", lastSeen())
		}
		// ... one after it does.
		f.advance(31 * time.Second)
		if got, err := f.svc.LookupSession(ctx, tok); err != nil || !got.LastSeenAt.Equal(f.now) {
			t.Fatalf("lookup after 61 s: %+v, %v", got, err)
		}
		if !lastSeen().Equal(f.now) {
			t.Fatalf("last_seen_at = %v, want %v", lastSeen(), f.now)
		}

		// Logout ends it; logging out again is fine.
		if err := f.svc.DeleteSession(ctx, tok); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.LookupSession(ctx, tok)
		wantCode(t, err, errs.Unauthenticated, "auth.session.ended")
		if err := f.svc.DeleteSession(ctx, tok); err != nil {
			t.Fatalf("second logout: %v", err)
		}

		for _, bad := range []string{"", "x", strings.Repeat("A", 43), strings.Repeat("é", 40), strings.Repeat("A", 5000)} {
			if _, err := f.svc.LookupSession(ctx, bad); !errs.Is(err, errs.Unauthenticated) {
				t.Fatalf("lookup %.10q: %v", bad, err)
			}
		}
		_, _, err = f.svc.CreateSession(ctx, "6f1c4b0e-0000-4000-8000-00000000dead", "", "", false)
		wantCode(t, err, errs.Unauthenticated, "")
	})
}

func TestSessionExpiry(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "e@oes.lu"})

		t.Run("idle", func(t *testing.T) {
			tok, _, _ := f.svc.CreateSession(ctx, id, "", "", true)
			f.advance(29 * time.Minute)
			if _, err := f.svc.LookupSession(ctx, tok); err != nil {
				t.Fatalf("after 29 idle minutes: %v", err)
			}
			// Use restarted the idle clock: 29 more minutes are fine, 30 are not.
			f.advance(29 * time.Minute)
			if _, err := f.svc.LookupSession(ctx, tok); err != nil {
				t.Fatalf("29 minutes after use: %v", err)
			}
			f.advance(30 * time.Minute)
			_, err := f.svc.LookupSession(ctx, tok)
			wantCode(t, err, errs.Unauthenticated, "")
		})

		t.Run("absolute", func(t *testing.T) {
			tok, sess, _ := f.svc.CreateSession(ctx, id, "", "", true)
			for f.now.Add(20 * time.Minute).Before(sess.ExpiresAt) {
				f.advance(20 * time.Minute)
				if _, err := f.svc.LookupSession(ctx, tok); err != nil {
					t.Fatalf("in use at %v: %v", f.now.Sub(sess.CreatedAt), err)
				}
			}
			f.now = sess.ExpiresAt
			_, err := f.svc.LookupSession(ctx, tok)
			wantCode(t, err, errs.Unauthenticated, "")
		})

		t.Run("configured", func(t *testing.T) {
			short := New(db, f.svc.log, Config{IdleTimeout: time.Minute, SessionLifetime: time.Hour})
			tok, sess, _ := short.CreateSession(ctx, id, "", "", true)
			if !sess.ExpiresAt.Equal(f.now.Add(time.Hour)) {
				t.Fatalf("expires %v", sess.ExpiresAt)
			}
			f.advance(time.Minute)
			_, err := short.LookupSession(ctx, tok)
			wantCode(t, err, errs.Unauthenticated, "")
		})

		t.Run("disabled user", func(t *testing.T) {
			tok, _, _ := f.svc.CreateSession(ctx, id, "", "", true)
			f.exec(`UPDATE users SET disabled = ? WHERE id = ?`, true, id)
			defer f.exec(`UPDATE users SET disabled = ? WHERE id = ?`, false, id)
			_, err := f.svc.LookupSession(ctx, tok)
			wantCode(t, err, errs.Unauthenticated, "")
			_, _, err = f.svc.CreateSession(ctx, id, "", "", true)
			wantCode(t, err, errs.Unauthenticated, "")
		})
	})
}

func TestCompleteSecondFactorRotates(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "r@oes.lu"})
		tok, sess, _ := f.svc.CreateSession(ctx, id, "", "", false)
		f.advance(time.Minute)
		fresh, err := f.svc.CompleteSecondFactor(ctx, tok)
		if err != nil {
			t.Fatal(err)
		}
		if fresh == tok || len(fresh) != 43 {
			t.Fatalf("rotation: new token %q (old %q)", fresh, tok)
		}
		_, err = f.svc.LookupSession(ctx, tok)
		wantCode(t, err, errs.Unauthenticated, "")
		if s, err := f.svc.LookupSession(ctx, fresh); err != nil || !s.SecondFactorDone || s.ID != sess.ID ||
			!s.CreatedAt.Equal(sess.CreatedAt) || !s.ExpiresAt.Equal(sess.ExpiresAt) {
			t.Fatalf("lookup new token: %+v, %v (created as %+v)", s, err, sess)
		}
		// The old token cannot be completed again either.
		_, err = f.svc.CompleteSecondFactor(ctx, tok)
		wantCode(t, err, errs.Unauthenticated, "")
		// Nor can an idle session.
		tok2, _, _ := f.svc.CreateSession(ctx, id, "", "", false)
		f.advance(31 * time.Minute)
		_, err = f.svc.CompleteSecondFactor(ctx, tok2)
		wantCode(t, err, errs.Unauthenticated, "")
	})
}

func TestDeleteUserSessionsAndPurge(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		a := f.user(userSpec{email: "a@oes.lu"})
		b := f.user(userSpec{email: "b@oes.lu"})
		ta1, sa1, _ := f.svc.CreateSession(ctx, a, "", "", true)
		ta2, _, _ := f.svc.CreateSession(ctx, a, "", "", true)
		tb, _, _ := f.svc.CreateSession(ctx, b, "", "", true)
		if err := db.Update(ctx, func(tx *store.Tx) error { return f.svc.DeleteUserSessions(ctx, tx, a, sa1.ID) }); err != nil {
			t.Fatal(err)
		}
		alive := func(tok string) bool { _, err := f.svc.LookupSession(ctx, tok); return err == nil }
		if !alive(ta1) || alive(ta2) || !alive(tb) {
			t.Fatalf("after DeleteUserSessions(except a1): a1=%v a2=%v b=%v", alive(ta1), alive(ta2), alive(tb))
		}
		if err := db.Update(ctx, func(tx *store.Tx) error { return DeleteUserSessions(ctx, tx, a, "") }); err != nil {
			t.Fatal(err)
		}
		if alive(ta1) || !alive(tb) {
			t.Fatal("DeleteUserSessions(all) did not end a1, or ended b")
		}

		// Purge: one idle, one expired, one alive.
		f.svc.CreateSession(ctx, b, "", "", true) // will sit idle
		f.advance(25 * time.Minute)
		live, _, _ := f.svc.CreateSession(ctx, b, "", "", true)
		f.advance(10 * time.Minute) // tb and the idle one: 35 min idle
		_, _ = f.svc.Authenticate(ctx, "x@y.z", "nope", "192.0.2.1")
		n, err := f.svc.PurgeExpired(ctx)
		if err != nil || n != 2 {
			t.Fatalf("purged %d, %v; want 2", n, err)
		}
		if !alive(live) {
			t.Fatal("purge removed a live session")
		}
		var throttles int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM auth_throttle`).Scan(&throttles)
		if throttles != 2 {
			t.Fatalf("%d throttle rows before the window passed, want 2", throttles)
		}
		f.advance(15 * time.Minute)
		if _, err := f.svc.PurgeExpired(ctx); err != nil {
			t.Fatal(err)
		}
		db.QueryRow(ctx, `SELECT COUNT(*) FROM auth_throttle`).Scan(&throttles)
		if throttles != 0 {
			t.Fatalf("%d stale throttle rows left", throttles)
		}
	})
}
