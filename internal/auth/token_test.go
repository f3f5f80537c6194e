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

func TestTokenInput(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		id := f.user(userSpec{email: "api@oes.lu"})
		day := 24 * time.Hour
		tests := []struct {
			name, tokName string
			ttl           time.Duration
			field, key    string // "" = accepted
			wantTTL       time.Duration
		}{
			{"default ttl", "  backup script ", 0, "", "", 90 * day},
			{"one day", "cron", day, "", "", day},
			{"longest", "yearly", MaxTokenTTL, "", "", MaxTokenTTL},
			{"too long ttl", "x", MaxTokenTTL + time.Second, "ttl", "auth.token.ttl_too_long", 0},
			{"negative ttl", "x", -time.Hour, "ttl", "auth.token.ttl_invalid", 0},
			{"no name", "   ", 0, "name", "auth.token.name_required", 0},
			{"long name", strings.Repeat("n", MaxTokenName+1), 0, "name", "auth.token.name_too_long", 0},
			{"control character", "a\nb", 0, "name", "auth.token.name_invalid", 0},
			{"invalid utf-8", "a\xffb", 0, "name", "auth.token.name_invalid", 0},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				secret, tok, err := f.svc.CreateToken(ctx, id, tt.tokName, tt.ttl)
				if tt.field != "" {
					wantField(t, err, tt.field, tt.key)
					return
				}
				if err != nil {
					t.Fatal(err)
				}
				if tok.Name != strings.TrimSpace(tt.tokName) || tok.ExpiresAt.Sub(tok.CreatedAt) != tt.wantTTL {
					t.Fatalf("token %+v", tok)
				}
				if len(secret) != 47 || !strings.HasPrefix(secret, "ndc_") || tok.Prefix != secret[:12] {
					t.Fatalf("secret %q, prefix %q", secret, tok.Prefix)
				}
			})
		}
		_, _, err := f.svc.CreateToken(ctx, "6f1c4b0e-0000-4000-8000-00000000dead", "x", 0)
		wantCode(t, err, errs.NotFound, "")
	})
}

func TestTokenLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		ctx := context.Background()
		f := newFixture(t, db, Config{})
		alice := f.user(userSpec{email: "alice@oes.lu"})
		bob := f.user(userSpec{email: "bob@oes.lu"})

		secret, tok, err := f.svc.CreateToken(ctx, alice, "sync", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if n := f.audited("token.create", tok.ID); n != 1 {
			t.Fatalf("%d token.create entries", n)
		}
		var stored int
		db.QueryRow(ctx, `SELECT COUNT(*) FROM auth_tokens WHERE secret_hash = ?`, secret).Scan(&stored)
		if stored != 0 {
			t.Fatal("secret stored in clear")
		}

		got, err := f.svc.AuthenticateToken(ctx, secret)
		if err != nil || got.ID != tok.ID || got.UserID != alice || got.LastUsedAt == nil || !got.LastUsedAt.Equal(f.now) {
			t.Fatalf("authenticate: %+v, %v", got, err)
		}
		lastUsed := func() time.Time {
			ts, _ := f.svc.ListTokens(ctx, alice)
			return *ts[0].LastUsedAt
		}
		f.advance(30 * time.Second)
		f.svc.AuthenticateToken(ctx, secret)
		if !lastUsed().Equal(f.now.Add(-30 * time.Second)) {
			t.Fatal("last_used_at written twice within a minute")
		}
		f.advance(time.Minute)
		f.svc.AuthenticateToken(ctx, secret)
		if !lastUsed().Equal(f.now) {
			t.Fatalf("last_used_at = %v, want %v", lastUsed(), f.now)
		}

		for _, bad := range []string{"", "ndc_", secret[:46], secret + "x", "xyz_" + secret[4:], strings.ToUpper(secret)} {
			_, err := f.svc.AuthenticateToken(ctx, bad)
			wantCode(t, err, errs.Unauthenticated, "auth.token.invalid")
		}

		// Another user cannot revoke it, nor can anyone revoke a made-up id.
		wantCode(t, f.svc.RevokeToken(ctx, bob, tok.ID), errs.NotFound, "")
		wantCode(t, f.svc.RevokeToken(ctx, alice, "6f1c4b0e-0000-4000-8000-00000000dead"), errs.NotFound, "")
		wantCode(t, f.svc.RevokeToken(ctx, alice, "not-a-uuid"), errs.NotFound, "")
		if _, err := f.svc.AuthenticateToken(ctx, secret); err != nil {
			t.Fatalf("token stopped working after failed revocations: %v", err)
		}

		f.advance(time.Minute)
		secret2, tok2, _ := f.svc.CreateToken(ctx, alice, "second", 0)
		if err := f.svc.RevokeToken(ctx, alice, tok.ID); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.RevokeToken(ctx, alice, tok.ID); err != nil {
			t.Fatalf("second revoke: %v", err)
		}
		if n := f.audited("token.revoke", tok.ID); n != 1 {
			t.Fatalf("%d token.revoke entries, want 1", n)
		}
		_, err = f.svc.AuthenticateToken(ctx, secret)
		wantCode(t, err, errs.Unauthenticated, "")

		list, err := f.svc.ListTokens(ctx, alice)
		if err != nil || len(list) != 2 || list[0].ID != tok2.ID || list[1].ID != tok.ID ||
			list[1].RevokedAt == nil || list[0].RevokedAt != nil || list[0].LastUsedAt != nil {
			t.Fatalf("list = %+v, %v", list, err)
		}
		if l, _ := f.svc.ListTokens(ctx, bob); len(l) != 0 {
			t.Fatalf("bob sees %d tokens", len(l))
		}

		// Expiry: valid until the last instant, not at it.
		f.now = tok2.ExpiresAt.Add(-time.Second)
		if _, err := f.svc.AuthenticateToken(ctx, secret2); err != nil {
			t.Fatalf("a second before expiry: %v", err)
		}
		f.now = tok2.ExpiresAt
		_, err = f.svc.AuthenticateToken(ctx, secret2)
		wantCode(t, err, errs.Unauthenticated, "")

		// A disabled user's tokens stop working.
		f.now = tok2.CreatedAt
		secret3, _, _ := f.svc.CreateToken(ctx, bob, "b", 0)
		f.exec(`UPDATE users SET disabled = ? WHERE id = ?`, true, bob)
		_, err = f.svc.AuthenticateToken(ctx, secret3)
		wantCode(t, err, errs.Unauthenticated, "")
		_, _, err = f.svc.CreateToken(ctx, bob, "c", 0)
		wantCode(t, err, errs.NotFound, "")
	})
}
