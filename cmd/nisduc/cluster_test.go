package main

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/demo"
	"github.com/nisduc/nisduc/internal/storetest"
)

// Two `nisduc serve` processes on one PostgreSQL share everything that
// matters: a session made by one works on the other, and login throttling
// counts attempts made on both.
func TestTwoServersOnePostgres(t *testing.T) {
	dsn := storetest.PostgresDSN(t)
	dataA, dataB := filepath.Join(t.TempDir(), "a"), filepath.Join(t.TempDir(), "b")
	key := strings.Repeat("ab", 32)
	common := []string{"--db", dsn, "--audit-key", key}
	baseA, _ := startServe(t, append([]string{"--demo", "--data", dataA}, common...)...)
	baseB, _ := startServe(t, append([]string{"--data", dataB}, common...)...)
	creds, err := demo.ReadCredentials(dataA)
	if err != nil {
		t.Fatal(err)
	}
	me := creds.Users[len(creds.Users)-1] // an operator's user: no second factor owed in any mode

	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	post := func(base, email, pw string) int {
		resp, err := c.PostForm(base+"/login", url.Values{"email": {email}, "password": {pw}})
		if err != nil {
			t.Fatal(err)
		}
		io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		return resp.StatusCode
	}
	if st := post(baseA, me.Email, me.Password); st != http.StatusSeeOther {
		t.Fatalf("login on A: %d", st)
	}
	// The cookie jar is per host:port; carry the session to B by hand.
	ua, _ := url.Parse(baseA)
	ub, _ := url.Parse(baseB)
	jar.SetCookies(ub, jar.Cookies(ua))
	resp, err := c.Get(baseB + "/api/v1/me")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(body), me.Email) {
		t.Fatalf("session from A used on B: %d %s", resp.StatusCode, body)
	}

	// Five wrong passwords, alternating servers, then a sixth is refused on
	// either even with the right password.
	for i := 0; i < 5; i++ {
		base := baseA
		if i%2 == 1 {
			base = baseB
		}
		if st := post(base, me.Email, "wrong password number "+string(rune('a'+i))); st != http.StatusUnauthorized {
			t.Fatalf("wrong password %d: %d", i, st)
		}
	}
	if st := post(baseB, me.Email, me.Password); st != http.StatusTooManyRequests {
		t.Fatalf("after 5 failures across both servers: %d, want 429", st)
	}
}
