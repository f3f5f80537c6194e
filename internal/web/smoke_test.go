package web

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/storetest"
)

// Every page a signed-in user reaches from the navigation renders.
func TestPagesRender(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	pages := map[string][]string{
		"admin":       {"/", "/orgs", "/orgs/" + f.orgs["opA"].ID, "/orgs/" + f.orgs["opA"].ID + "/edit", "/orgs/new", "/orgs/" + f.orgs["opA"].ID + "/users", "/users/" + f.users["opA_risk"].ID, "/supervision", "/audit", "/inbox", "/account", "/account/tokens"},
		"opA_admin":   {"/", "/orgs", "/orgs/" + f.orgs["opA"].ID, "/orgs/" + f.orgs["opA"].ID + "/edit", "/orgs/" + f.orgs["opA"].ID + "/users", "/inbox", "/account", "/account/tokens"},
		"nca_analyst": {"/", "/orgs", "/orgs/" + f.orgs["opB"].ID, "/audit", "/audit?org=" + f.orgs["opA"].ID},
	}
	for who, paths := range pages {
		c := f.client(who)
		for _, p := range paths {
			resp, body := f.do(c, "GET", p, "", "")
			if resp.StatusCode != http.StatusOK {
				t.Errorf("%s GET %s: %d\n%s", who, p, resp.StatusCode, body)
				continue
			}
			if !strings.Contains(body, "<main id=\"main\">") {
				t.Errorf("%s GET %s: no layout", who, p)
			}
			if strings.Contains(body, "web.") && strings.Contains(body, ">web.") {
				t.Errorf("%s GET %s: untranslated key in page", who, p)
			}
		}
	}
}

func TestLoginFlow(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	c := f.client("anon")
	resp, _ := f.do(c, "GET", "/", "", "")
	if resp.StatusCode != http.StatusSeeOther || !strings.HasPrefix(resp.Header.Get("Location"), "/login") {
		t.Fatalf("anonymous dashboard: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	form := url.Values{"email": {"opa.risk@example.test"}, "password": {"wrong password here"}, "next": {"/orgs"}}
	resp, body := f.do(c, "POST", "/login", "application/x-www-form-urlencoded", form.Encode())
	if resp.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "Wrong e-mail or password") {
		t.Fatalf("bad password: %d", resp.StatusCode)
	}
	form.Set("password", fixturePassword)
	resp, _ = f.do(c, "POST", "/login", "application/x-www-form-urlencoded", form.Encode())
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/orgs" {
		t.Fatalf("login: %d %s", resp.StatusCode, resp.Header.Get("Location"))
	}
	resp, body = f.do(c, "GET", "/orgs", "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Grid A") || strings.Contains(body, "Rail B") {
		t.Fatalf("directory as operator: %d; must list own org and not the other operator", resp.StatusCode)
	}
	resp, _ = f.do(c, "POST", "/logout", "application/x-www-form-urlencoded", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("logout: %d", resp.StatusCode)
	}
	resp, _ = f.do(c, "GET", "/orgs", "", "")
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("after logout: %d, want redirect to login", resp.StatusCode)
	}
}
