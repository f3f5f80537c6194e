package web

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/model"
	"github.com/nisduc/nisduc/internal/notify"
	"github.com/nisduc/nisduc/internal/store"
)

// fixture is a real nisduc server on a random port over a small directory:
//
//	plat  other_authority  the platform operator (admin)
//	nca   NCA, LU          sectoral authority + SPOC for energy and transport in LU
//	cert  CSIRT, LU        CSIRT for energy and transport in LU
//	opA   OES, LU          energy/electricity TSO          (served by nca, cert)
//	opB   OES, LU          transport/rail                  (served by nca, cert)
//	opC   OES, BE          energy/gas                      (served by nobody here)
//
// and one user per role of interest (see users below), each with a
// signed-in HTTP client.
type fixture struct {
	t      testing.TB
	db     *store.DB
	srv    *Server
	ts     *httptest.Server
	dir    *directory.Service
	auth   *auth.Service
	audit  *audit.Log
	notify *notify.Service
	models *model.Service
	orgs   map[string]directory.Org
	users  map[string]directory.User
	pw     map[string]string
}

// fixtureUsers: name → org and roles.
var fixtureUsers = []struct {
	name    string
	org     string
	roles   []authz.Role
	sectors []string
}{
	{"admin", "plat", []authz.Role{authz.PlatformAdmin}, nil},
	{"nca_admin", "nca", []authz.Role{authz.AuthorityAdmin}, nil},
	{"nca_analyst", "nca", []authz.Role{authz.AuthorityAnalyst}, nil},
	{"nca_energy", "nca", []authz.Role{authz.AuthorityAnalyst}, []string{"energy"}},
	{"csirt_observer", "cert", []authz.Role{authz.Observer}, nil},
	{"opA_admin", "opA", []authz.Role{authz.OperatorAdmin}, nil},
	{"opA_risk", "opA", []authz.Role{authz.RiskManager}, nil},
	{"opA_notifier", "opA", []authz.Role{authz.IncidentNotifier}, nil},
	{"opB_admin", "opB", []authz.Role{authz.OperatorAdmin}, nil},
}

const fixturePassword = "correct horse battery staple 42"

func newFixture(t testing.TB, db *store.DB) *fixture {
	t.Helper()
	ctx := authz.WithActor(context.Background(), authz.CLI("test"))
	key := make([]byte, 32)
	for i := range key {
		key[i] = byte(i + 1)
	}
	f := &fixture{t: t, db: db, audit: audit.New(key), orgs: map[string]directory.Org{}, users: map[string]directory.User{}, pw: map[string]string{}}
	f.dir = directory.New(db, f.audit)
	f.auth = auth.New(db, f.audit, auth.Config{})
	f.notify = notify.New(db, notify.Config{})
	// The built-in models are loaded by the tests that need them
	// (f.syncModels): it costs about a second.
	f.models = model.New(db, f.audit)
	mk := func(name string, in directory.OrgInput) {
		o, err := f.dir.CreateOrg(ctx, in)
		if err != nil {
			t.Fatalf("fixture org %s: %v", name, err)
		}
		f.orgs[name] = o
	}
	mk("plat", directory.OrgInput{ShortName: "plat", Name: "Platform Operations", Country: "LU", TimeZone: "Europe/Luxembourg", Kind: authz.OtherAuthority})
	mk("nca", directory.OrgInput{ShortName: "nca-lu", Name: "Regulator LU", Country: "LU", TimeZone: "Europe/Luxembourg", Kind: authz.NCA})
	mk("cert", directory.OrgInput{ShortName: "cert-lu", Name: "CSIRT LU", Country: "LU", TimeZone: "Europe/Luxembourg", Kind: authz.CSIRT})
	mk("opA", directory.OrgInput{ShortName: "grid-a", Name: "Grid A", Country: "LU", TimeZone: "Europe/Luxembourg", Kind: authz.OES,
		Category: "essential", Sectors: []directory.OrgSector{{Sector: "energy", Subsector: "energy/electricity", EntityType: "tso"}},
		Prefixes: []string{"192.0.2.0/24"}, ASNs: []string{"AS64500"}, Domains: []string{"grid-a.example"}})
	mk("opB", directory.OrgInput{ShortName: "rail-b", Name: "Rail B", Country: "LU", TimeZone: "Europe/Luxembourg", Kind: authz.OES,
		Category: "essential", Sectors: []directory.OrgSector{{Sector: "transport", Subsector: "transport/rail"}}})
	mk("opC", directory.OrgInput{ShortName: "gas-c", Name: "Gas C", Country: "BE", TimeZone: "Europe/Brussels", Kind: authz.OES,
		Category: "important", Sectors: []directory.OrgSector{{Sector: "energy", Subsector: "energy/gas"}}})
	for _, l := range []directory.Link{
		{Country: "LU", Sector: "energy", Role: authz.SectoralAuthority, AuthorityOrgID: f.orgs["nca"].ID, Model: "nis-lu"},
		{Country: "LU", Sector: "transport", Role: authz.SectoralAuthority, AuthorityOrgID: f.orgs["nca"].ID, Model: "nis-lu"},
		{Country: "LU", Sector: "energy", Role: authz.SPOCLink, AuthorityOrgID: f.orgs["nca"].ID},
		{Country: "LU", Sector: "energy", Role: authz.CSIRTLink, AuthorityOrgID: f.orgs["cert"].ID},
		{Country: "LU", Sector: "transport", Role: authz.CSIRTLink, AuthorityOrgID: f.orgs["cert"].ID},
	} {
		if _, err := f.dir.AddLink(ctx, l); err != nil {
			t.Fatalf("fixture link: %v", err)
		}
	}
	hash, err := auth.HashPassword(fixturePassword)
	if err != nil {
		t.Fatal(err)
	}
	for _, u := range fixtureUsers {
		nu := directory.NewUser{OrgID: f.orgs[u.org].ID, Email: strings.ReplaceAll(u.name, "_", ".") + "@example.test",
			Name: strings.ReplaceAll(u.name, "_", " "), Roles: u.roles, Sectors: u.sectors, PasswordHash: hash}
		created, err := f.dir.CreateUser(ctx, nu)
		if err != nil {
			t.Fatalf("fixture user %s: %v", u.name, err)
		}
		f.users[u.name] = created
		f.pw[u.name] = fixturePassword
	}
	srv, err := New(Config{Version: "test"}, Deps{DB: db, Directory: f.dir, Auth: f.auth, Audit: f.audit, Notify: f.notify, Models: f.models})
	if err != nil {
		t.Fatalf("server: %v", err)
	}
	f.srv = srv
	f.ts = httptest.NewServer(srv)
	t.Cleanup(f.ts.Close)
	return f
}

// client returns an HTTP client signed in as who (a fixtureUsers name, or
// "anon"), with its second factor done, that does not follow redirects.
func (f *fixture) client(who string) *http.Client {
	f.t.Helper()
	jar, _ := cookiejar.New(nil)
	c := &http.Client{Jar: jar, Timeout: 20 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	if who == "anon" {
		return c
	}
	u, ok := f.users[who]
	if !ok {
		f.t.Fatalf("no fixture user %q", who)
	}
	token, _, err := f.auth.CreateSession(context.Background(), u.ID, "127.0.0.1", "test", true)
	if err != nil {
		f.t.Fatalf("session for %s: %v", who, err)
	}
	req, _ := http.NewRequest("GET", f.ts.URL, nil)
	jar.SetCookies(req.URL, []*http.Cookie{{Name: sessionCookie, Value: token, Path: "/"}})
	return c
}

// token returns a fresh API token of who.
func (f *fixture) token(who string) string {
	f.t.Helper()
	secret, _, err := f.auth.CreateToken(authz.WithActor(context.Background(), authz.CLI("test")), f.users[who].ID, "test-"+who, 24*time.Hour)
	if err != nil {
		f.t.Fatalf("token for %s: %v", who, err)
	}
	return secret
}

// do sends a request and returns the response with its body read.
func (f *fixture) do(c *http.Client, method, path, contentType, body string, header ...string) (*http.Response, string) {
	f.t.Helper()
	req, err := http.NewRequest(method, f.ts.URL+path, strings.NewReader(body))
	if err != nil {
		f.t.Fatal(err)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		f.t.Fatalf("%s %s: %v", method, path, err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	return resp, string(b)
}

func cliCtx() context.Context { return authz.WithActor(context.Background(), authz.CLI("test")) }

// addProbeLink adds a throw-away supervision link (a country and sector
// that no other probe uses) and returns its id.
func (f *fixture) addProbeLink() (string, error) {
	n := int(seq.Add(1))
	countries := []string{"AT", "BG", "CY", "CZ", "DE", "DK", "EE", "ES", "FI", "FR", "GR", "HR", "HU", "IE", "IT", "LT", "LV", "MT", "NL", "PL", "PT", "RO", "SE", "SI", "SK"}
	sectors := []string{"health", "drinking-water", "banking", "digital-infrastructure", "space", "waste-water", "public-administration"}
	l, err := f.dir.AddLink(cliCtx(), directory.Link{Country: countries[n%len(countries)], Sector: sectors[(n/len(countries))%len(sectors)],
		Role: authz.SectoralAuthority, AuthorityOrgID: f.orgs["nca"].ID})
	return l.ID, err
}

// syncModels loads the built-in regulatory and sector models.
func (f *fixture) syncModels() {
	f.t.Helper()
	if err := f.models.SyncBuiltins(cliCtx()); err != nil {
		f.t.Fatalf("built-in models: %v", err)
	}
}
