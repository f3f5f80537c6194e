package web

import (
	"html"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pquerna/otp/totp"

	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/storetest"
)

// An authority user must enrol a second factor at the first sign-in, then
// pass it at every sign-in; nothing else is reachable before.
func TestSecondFactorEnrolmentAndLogin(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	c := f.client("anon")
	login := url.Values{"email": {"nca.analyst@example.test"}, "password": {fixturePassword}, "next": {"/orgs"}}
	resp, _ := f.do(c, "POST", "/login", "application/x-www-form-urlencoded", login.Encode())
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account/2fa") {
		t.Fatalf("login of an authority user without TOTP: %d → %s, want the enrolment page", resp.StatusCode, resp.Header.Get("Location"))
	}
	// Before enrolling, every other page sends back to enrolment, and the API refuses.
	resp, _ = f.do(c, "GET", "/orgs", "", "")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/account/2fa") {
		t.Fatalf("directory before enrolment: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = f.do(c, "GET", "/api/v1/me", "", "")
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("API before enrolment: %d, want 401", resp.StatusCode)
	}
	resp, body := f.do(c, "GET", "/account/2fa?next=/orgs", "", "")
	m := regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`).FindStringSubmatch(body)
	if resp.StatusCode != 200 || m == nil {
		t.Fatalf("enrolment page: %d, no secret shown", resp.StatusCode)
	}
	secret := m[1]
	resp, _ = f.do(c, "POST", "/account/2fa", "application/x-www-form-urlencoded", url.Values{"code": {"000000"}, "next": {"/orgs"}}.Encode())
	if resp.StatusCode != http.StatusUnprocessableEntity {
		t.Fatalf("wrong enrolment code: %d, want 422", resp.StatusCode)
	}
	// A wrong code shows a new secret: read it again.
	_, body = f.do(c, "GET", "/account/2fa?next=/orgs", "", "")
	secret = regexp.MustCompile(`<code class="secret">([A-Z2-7]+)</code>`).FindStringSubmatch(body)[1]
	code, _ := totp.GenerateCode(secret, time.Now())
	resp, body = f.do(c, "POST", "/account/2fa", "application/x-www-form-urlencoded", url.Values{"code": {code}, "next": {"/orgs"}}.Encode())
	if resp.StatusCode != 200 || strings.Count(body, "<li><code>") != 10 {
		t.Fatalf("enrolment: %d, want the 10 recovery codes", resp.StatusCode)
	}
	recovery := regexp.MustCompile(`<li><code>([^<]+)</code></li>`).FindStringSubmatch(body)[1]
	resp, _ = f.do(c, "GET", "/orgs", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("directory after enrolment: %d", resp.StatusCode)
	}

	// Next sign-in: the code is asked before anything else.
	f.do(c, "POST", "/logout", "application/x-www-form-urlencoded", "")
	resp, _ = f.do(c, "POST", "/login", "application/x-www-form-urlencoded", login.Encode())
	if loc := resp.Header.Get("Location"); !strings.HasPrefix(loc, "/login/2fa") {
		t.Fatalf("second login → %s, want /login/2fa", loc)
	}
	resp, _ = f.do(c, "GET", "/orgs", "", "")
	if !strings.HasPrefix(resp.Header.Get("Location"), "/login/2fa") {
		t.Fatalf("directory before the code: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = f.do(c, "POST", "/login/2fa", "application/x-www-form-urlencoded", url.Values{"code": {"123456"}, "next": {"/orgs"}}.Encode())
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("wrong code: %d", resp.StatusCode)
	}
	// A recovery code works once.
	resp, _ = f.do(c, "POST", "/login/2fa", "application/x-www-form-urlencoded", url.Values{"code": {html.UnescapeString(recovery)}, "next": {"/orgs"}}.Encode())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orgs" {
		t.Fatalf("recovery code: %d → %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, _ = f.do(c, "GET", "/orgs", "", "")
	if resp.StatusCode != 200 {
		t.Fatalf("directory after the second factor: %d", resp.StatusCode)
	}
}

// Cross-origin state changes are refused (CSRF), same-origin ones pass.
func TestCrossOriginRefused(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	c := f.client("opA_admin")
	form := url.Values{"name": {"Renamed"}, "language": {"en"}}.Encode()
	resp, _ := f.do(c, "POST", "/account/profile", "application/x-www-form-urlencoded", form, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-site POST: %d, want 403", resp.StatusCode)
	}
	resp, _ = f.do(c, "POST", "/account/profile", "application/x-www-form-urlencoded", form, "Origin", "https://evil.example")
	if resp.StatusCode != http.StatusForbidden {
		t.Fatalf("cross-origin POST (Origin only): %d, want 403", resp.StatusCode)
	}
	resp, _ = f.do(c, "POST", "/account/profile", "application/x-www-form-urlencoded", form, "Sec-Fetch-Site", "same-origin", "Origin", f.ts.URL)
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("same-origin POST: %d, want 303", resp.StatusCode)
	}
}

// The user's language applies to every page.
func TestPagesInEveryLanguage(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	c := f.client("opA_admin")
	for _, lang := range i18n.Languages {
		resp, _ := f.do(c, "POST", "/account/profile", "application/x-www-form-urlencoded", url.Values{"name": {"opA admin"}, "language": {lang}, "timezone": {""}}.Encode())
		if resp.StatusCode != http.StatusSeeOther {
			t.Fatalf("set language %s: %d", lang, resp.StatusCode)
		}
		for _, p := range []string{"/", "/orgs", "/orgs/" + f.orgs["opA"].ID, "/account", "/account/tokens", "/inbox"} {
			resp, body := f.do(c, "GET", p, "", "")
			if resp.StatusCode != 200 {
				t.Fatalf("%s %s: %d", lang, p, resp.StatusCode)
			}
			if !strings.Contains(body, `<html lang="`+lang+`">`) || !strings.Contains(body, html.EscapeString(i18n.T(lang, "web.nav.directory"))) {
				t.Errorf("%s %s: page not in %s", lang, p, lang)
			}
		}
	}
	// Before sign-in, the language picker sets a cookie.
	anon := f.client("anon")
	resp, _ := f.do(anon, "POST", "/lang", "application/x-www-form-urlencoded", "lang=de&next=/login")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("language picker: %d", resp.StatusCode)
	}
	_, body := f.do(anon, "GET", "/login", "", "")
	if !strings.Contains(body, i18n.T("de", "web.login.submit")) {
		t.Fatal("login page not in German after choosing it")
	}
}

// Every catalogue key a template names exists (dynamic keys by prefix).
func TestTemplateKeysExist(t *testing.T) {
	en, err := i18n.Catalog("en")
	if err != nil {
		t.Fatal(err)
	}
	lit := regexp.MustCompile(`\.T "([a-z0-9_.]+)"`)
	dyn := regexp.MustCompile(`print "([a-z0-9_.]+\.)"`)
	err = fs.WalkDir(assets, "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, _ := fs.ReadFile(assets, p)
		for _, m := range lit.FindAllStringSubmatch(string(b), -1) {
			if _, ok := en[m[1]]; !ok {
				t.Errorf("%s: key %q not in the catalogue", p, m[1])
			}
		}
		for _, m := range dyn.FindAllStringSubmatch(string(b), -1) {
			found := false
			for k := range en {
				if strings.HasPrefix(k, m[1]) {
					found = true
					break
				}
			}
			if !found {
				t.Errorf("%s: no catalogue key starts with %q", p, m[1])
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// Unknown API paths and wrong methods answer in JSON, like every API error.
func TestAPIUnknownRoutesAnswerJSON(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	c := f.client("admin")
	resp, body := f.do(c, "GET", "/api/v1/nothing-here", "", "")
	if resp.StatusCode != http.StatusNotFound || !strings.Contains(body, `"code": "not_found"`) {
		t.Fatalf("unknown API path: %d %s", resp.StatusCode, body)
	}
	resp, body = f.do(c, "PUT", "/api/v1/me", "application/json", "{}")
	if resp.StatusCode != http.StatusMethodNotAllowed || resp.Header.Get("Allow") != "GET" || !strings.Contains(body, "method_not_allowed") {
		t.Fatalf("wrong method: %d Allow=%q %s", resp.StatusCode, resp.Header.Get("Allow"), body)
	}
}

// The administrator imports a directory file from the browser; a broken
// one lists every problem by path and stores nothing.
func TestDirectoryImportFromBrowser(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	c := f.client("admin")
	_, exported := f.do(c, "GET", "/directory/export", "", "")
	upload := func(doc string) (*http.Response, string) {
		var b strings.Builder
		mw := multipart.NewWriter(&b)
		fw, _ := mw.CreateFormFile("file", "dir.json")
		fw.Write([]byte(doc))
		mw.Close()
		return f.do(c, "POST", "/directory/import", mw.FormDataContentType(), b.String())
	}
	resp, body := upload(exported)
	if resp.StatusCode != 200 || !strings.Contains(body, "0 created, 0 updated, 6 unchanged") {
		t.Fatalf("re-import: %d\n%s", resp.StatusCode, body)
	}
	bad := strings.Replace(exported, `"country": "BE"`, `"country": "XX"`, 1)
	resp, body = upload(bad)
	if resp.StatusCode != http.StatusUnprocessableEntity || !strings.Contains(body, "].country") {
		t.Fatalf("broken import: %d\n%s", resp.StatusCode, body)
	}
}

func TestSafeNext(t *testing.T) {
	tests := map[string]string{
		"/orgs?kind=OES":        "/orgs?kind=OES",
		"":                      "/",
		"https://evil.example/": "/",
		"//evil.example":        "/",
		"/\\evil.example":       "/",
		"/\t/evil.example":      "/",
		"/\n/evil.example":      "/",
		"orgs":                  "/",
		"/%2F%2Fevil":           "/%2F%2Fevil",
	}
	for in, want := range tests {
		if got := safeNext(in); got != want {
			t.Errorf("safeNext(%q) = %q, want %q", in, got, want)
		}
	}
}
