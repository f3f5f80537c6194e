package web

import (
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/storetest"
)

// The authorization matrix: every route of the UI and the API, probed as
// every kind of actor (own organisation and foreign ones), with the actors
// that must be let through. Everyone else must be refused (401, 403, 404,
// or a redirect to the sign-in page). A route registered without an entry
// here fails TestEveryRouteInMatrix.

var (
	everyone  = []string{"admin", "nca_admin", "nca_analyst", "nca_energy", "csirt_observer", "opA_admin", "opA_risk", "opA_notifier", "opB_admin"}
	withAnon  = append([]string{"anon"}, everyone...)
	operators = []string{"opA_admin", "opA_risk", "opA_notifier", "opB_admin"}
	ncaAll    = []string{"nca_admin", "nca_analyst", "nca_energy"}
	opAAll    = []string{"opA_admin", "opA_risk", "opA_notifier"}
)

func list(groups ...[]string) []string {
	var out []string
	for _, g := range groups {
		out = append(out, g...)
	}
	return out
}

// probe is one request and who may make it. Placeholders in path and body
// are filled per actor by the fixture (see fill).
type probe struct {
	path  string
	form  string // a form body (POST)
	json  string // a JSON body
	allow []string
	// check, when set, replaces the allow/deny judgement.
	check func(who string, status int, loc, body string) error
}

var seq atomic.Int64

func routeMatrix() map[string][]probe {
	return map[string][]probe{
		// Operations and sign-in: public.
		"GET /healthz": {{path: "/healthz", allow: withAnon}},
		"GET /readyz":  {{path: "/readyz", allow: withAnon}},
		"GET /metrics": {{path: "/metrics", allow: withAnon}},
		"GET /static/": {{path: "/static/app.css", allow: withAnon}},
		"GET /login":   {{path: "/login", allow: withAnon}},
		// Wrong credentials: refused for everyone, and throttled after a few.
		"POST /login":    {{path: "/login", form: "email=nobody%40example.test&password=not+the+password", check: wantStatus(http.StatusUnauthorized, http.StatusTooManyRequests)}},
		"POST /lang":     {{path: "/lang", form: "lang=fr&next=/orgs", allow: withAnon}},
		"GET /login/2fa": {{path: "/login/2fa", allow: everyone}},
		"POST /login/2fa": {{path: "/login/2fa", form: "code=000000", check: func(who string, st int, loc, body string) error {
			// Everyone signed in reaches the form and is told the code is
			// wrong; anonymous callers are sent to sign in.
			if who == "anon" {
				return deniedErr(st, loc)
			}
			if st != http.StatusUnauthorized || !strings.Contains(body, `action="/login/2fa"`) {
				return fmt.Errorf("status %d, want the 2FA form again with 401", st)
			}
			return nil
		}}},
		"POST /logout": {{path: "/logout", allow: everyone, check: func(who string, st int, loc, body string) error {
			if who == "anon" {
				return deniedErr(st, loc)
			}
			if st != http.StatusSeeOther || loc != "/login" {
				return fmt.Errorf("status %d to %q, want 303 to /login", st, loc)
			}
			return nil
		}}},

		// Account: every signed-in user, on their own account only.
		"GET /account":           {{path: "/account", allow: everyone}},
		"POST /account/profile":  {{path: "/account/profile", form: "name=Renamed+User&language=en&timezone=Europe%2FBrussels", allow: everyone}},
		"POST /account/password": {{path: "/account/password", form: "old_password=wrong+old+password&new_password=another+long+passphrase+9&confirm_password=another+long+passphrase+9", allow: everyone}},
		"GET /account/2fa":       {{path: "/account/2fa", allow: everyone}},
		"POST /account/2fa":      {{path: "/account/2fa", form: "code=000000", allow: everyone}},
		// The second factor is required for administrators and authorities:
		// they may not remove it.
		"POST /account/2fa/disable": {{path: "/account/2fa/disable", allow: operators}},
		"GET /account/tokens":       {{path: "/account/tokens", allow: everyone}},
		"POST /account/tokens":      {{path: "/account/tokens", form: "name=ci&days=30", allow: everyone}},
		"POST /account/tokens/{id}/revoke": {
			{path: "/account/tokens/{mytoken}/revoke", allow: everyone},
			{path: "/account/tokens/{othertoken}/revoke", allow: nil},
		},
		"GET /{$}":         {{path: "/", allow: everyone}},
		"GET /inbox":       {{path: "/inbox", allow: everyone}},
		"POST /inbox/read": {{path: "/inbox/read", form: "", allow: everyone}},

		// Directory.
		"GET /orgs":     {{path: "/orgs", allow: everyone}},
		"GET /orgs/new": {{path: "/orgs/new", allow: []string{"admin"}}},
		"POST /orgs":    {{path: "/orgs", form: "short_name=new-{seq}&name=New+Org+{seq}&kind=OES&country=LU&timezone=Europe%2FLuxembourg&nis2_category=important", allow: []string{"admin"}}},
		"GET /orgs/{id}": {
			{path: "/orgs/{opA}", allow: list([]string{"admin", "csirt_observer"}, ncaAll, opAAll)},
			{path: "/orgs/{opB}", allow: []string{"admin", "nca_admin", "nca_analyst", "csirt_observer", "opB_admin"}},
			{path: "/orgs/{opC}", allow: []string{"admin"}},
			{path: "/orgs/{nca}", allow: everyone},
		},
		"GET /orgs/{id}/edit": {
			{path: "/orgs/{opA}/edit", allow: []string{"admin", "opA_admin"}},
			{path: "/orgs/{nca}/edit", allow: []string{"admin", "nca_admin"}},
		},
		"POST /orgs/{id}": {
			{path: "/orgs/{opA}", form: "name=Grid+A&timezone=Europe%2FLuxembourg&description=Transmission+system+operator", allow: []string{"admin", "opA_admin"}},
		},
		"GET /orgs/{id}/users": {
			{path: "/orgs/{opA}/users", allow: []string{"admin", "opA_admin"}},
			{path: "/orgs/{nca}/users", allow: []string{"admin", "nca_admin"}},
		},
		"POST /orgs/{id}/users": {
			{path: "/orgs/{opA}/users", form: "name=New+Person&email=new{seq}%40example.test&roles=read_only&language=en", allow: []string{"admin", "opA_admin"}},
		},
		"GET /users/{id}":               {{path: "/users/{user:opA_notifier}", allow: []string{"admin", "opA_admin"}}},
		"POST /users/{id}":              {{path: "/users/{user:opA_notifier}", form: "name=opA+notifier&roles=incident_notifier", allow: []string{"admin", "opA_admin"}}},
		"GET /supervision":              {{path: "/supervision", allow: []string{"admin"}}},
		"POST /supervision":             {{path: "/supervision", form: "country=LU&sector=health&role=csirt&authority={cert}", allow: []string{"admin"}}},
		"POST /supervision/{id}/delete": {{path: "/supervision/{link}/delete", allow: []string{"admin"}}},
		"GET /directory/export":         {{path: "/directory/export", allow: []string{"admin"}}},
		"GET /directory/import":         {{path: "/directory/import", allow: []string{"admin"}}},
		"POST /directory/import":        {{path: "/directory/import", form: "", allow: []string{"admin"}}}, // no file: 422 for the admin

		// Audit trail: administrators, and authorities for what they serve.
		"GET /audit": {
			{path: "/audit", allow: list([]string{"admin"}, ncaAll)},
			{path: "/audit?org={opA}", allow: list([]string{"admin"}, ncaAll)},
			{path: "/audit?org={opB}", allow: []string{"admin", "nca_admin", "nca_analyst"}},
			{path: "/audit?org={opC}", allow: []string{"admin"}},
		},

		"GET /settings":  {{path: "/settings", allow: []string{"admin"}}},
		"POST /settings": {{path: "/settings", form: "", allow: []string{"admin"}}},

		// JSON API.
		"GET /api/v1/openapi.json":   {{path: "/api/v1/openapi.json", allow: withAnon}},
		"GET /api/v1/me":             {{path: "/api/v1/me", allow: everyone}},
		"GET /api/v1/organizations":  {{path: "/api/v1/organizations", allow: everyone}},
		"POST /api/v1/organizations": {{path: "/api/v1/organizations", json: `{"short_name":"api-{seq}","name":"API Org {seq}","kind":"OES","country":"LU","timezone":"Europe/Luxembourg","nis2_category":"important"}`, allow: []string{"admin"}}},
		"GET /api/v1/organizations/{id}": {
			{path: "/api/v1/organizations/{opA}", allow: list([]string{"admin", "csirt_observer"}, ncaAll, opAAll)},
			{path: "/api/v1/organizations/{opC}", allow: []string{"admin"}},
		},
		"PATCH /api/v1/organizations/{id}": {
			{path: "/api/v1/organizations/{opA}", json: `{"description":"patched"}`, allow: []string{"admin", "opA_admin"}},
			{path: "/api/v1/organizations/{opB}", json: `{"description":"patched"}`, allow: []string{"admin", "opB_admin"}},
		},
		"GET /api/v1/organizations/{id}/supervision": {
			{path: "/api/v1/organizations/{opA}/supervision", allow: list([]string{"admin", "csirt_observer"}, ncaAll, opAAll)},
		},
		"GET /api/v1/organizations/{id}/users": {
			{path: "/api/v1/organizations/{opA}/users", allow: []string{"admin", "opA_admin"}},
		},
		"GET /api/v1/supervision":         {{path: "/api/v1/supervision", allow: everyone}},
		"POST /api/v1/supervision":        {{path: "/api/v1/supervision", json: `{"country":"LU","sector":"health","role":"csirt","authority":"{cert}"}`, allow: []string{"admin"}}},
		"DELETE /api/v1/supervision/{id}": {{path: "/api/v1/supervision/{link}", allow: []string{"admin"}}},
		"GET /api/v1/directory":           {{path: "/api/v1/directory", allow: []string{"admin"}}},
		"POST /api/v1/directory":          {{path: "/api/v1/directory", json: `{"format":"nisduc-directory","version":1,"organizations":[],"supervision":[]}`, allow: []string{"admin"}}},
		"GET /api/v1/users":               {{path: "/api/v1/users", allow: everyone}}, // filtered to what each may see
		"POST /api/v1/users": {
			{path: "/api/v1/users", json: `{"org_id":"{opA}","email":"api{seq}@example.test","name":"API Person","roles":["read_only"]}`, allow: []string{"admin", "opA_admin"}},
		},
		"GET /api/v1/users/{id}": {
			{path: "/api/v1/users/{user:opA_notifier}", allow: []string{"admin", "opA_admin", "opA_notifier"}},
		},
		"PATCH /api/v1/users/{id}": {
			{path: "/api/v1/users/{user:opA_notifier}", json: `{"name":"opA notifier"}`, allow: []string{"admin", "opA_admin", "opA_notifier"}}, // a user may rename themselves
			{path: "/api/v1/users/{newuser:opA}", json: `{"roles":["operator_admin"]}`, allow: []string{"admin", "opA_admin"}},
		},
		"GET /api/v1/tokens":  {{path: "/api/v1/tokens", allow: everyone}},
		"POST /api/v1/tokens": {{path: "/api/v1/tokens", json: `{"name":"script","ttl_days":7}`, allow: everyone}},
		"DELETE /api/v1/tokens/{id}": {
			{path: "/api/v1/tokens/{mytoken}", allow: everyone},
			{path: "/api/v1/tokens/{othertoken}", allow: nil},
		},
		"GET /api/v1/audit": {
			{path: "/api/v1/audit", allow: list([]string{"admin"}, ncaAll)},
			{path: "/api/v1/audit?org={opB}", allow: []string{"admin", "nca_admin", "nca_analyst"}},
		},
		"GET /api/v1/inbox":       {{path: "/api/v1/inbox", allow: everyone}},
		"POST /api/v1/inbox/read": {{path: "/api/v1/inbox/read", json: `{}`, allow: everyone}},

		// Models: everyone signed in browses published ones; drafts, edits,
		// imports and publishing need authz.ModelEdit (authority admins and
		// analysts in their own organisation; not the platform admin).
		// {model:X} loads the built-ins; {draft:X} is X/versions/N of a
		// fresh or open draft of X, {draftq:X} is X?version=N and {draftv:X}
		// X?v=N.
		"GET /models":         {{path: "/models", allow: everyone}},
		"GET /models/import":  {{path: "/models/import", allow: ncaAll}},
		"POST /models/import": {{path: "/models/import", form: "", allow: ncaAll}}, // no file: 422 for editors
		"GET /models/{code}": {
			{path: "/models/{model:nis}", allow: everyone},
			{path: "/models/{model:energy-electricity}", allow: everyone},
			{path: "/models/{draftv:eecc}", allow: ncaAll},
		},
		"GET /models/{code}/download":                    {{path: "/models/{model:kb-generic}/download?format=yaml", allow: everyone}},
		"GET /models/{code}/diff":                        {{path: "/models/{model:nis}/diff?from=1&to=1", allow: everyone}},
		"POST /models/{code}/drafts":                     {{path: "/models/{model:nis-lu}/drafts", allow: ncaAll}},
		"GET /models/{code}/versions/{version}/edit":     {{path: "/models/{draft:eecc}/edit", allow: ncaAll}},
		"POST /models/{code}/versions/{version}":         {{path: "/models/{draft:eecc}", form: "action=validate&yaml=kind%3A+regulatory-model", allow: ncaAll}},
		"GET /models/{code}/versions/{version}/publish":  {{path: "/models/{draft:eecc}/publish", allow: ncaAll}},
		"POST /models/{code}/versions/{version}/publish": {{path: "/models/{draft:iso27001}/publish", allow: ncaAll}},
		"GET /api/v1/models":                             {{path: "/api/v1/models", allow: everyone}},
		"POST /api/v1/models":                            {{path: "/api/v1/models", json: `{"kind":"knowledge-base"}`, allow: ncaAll}},
		"POST /api/v1/models/validate":                   {{path: "/api/v1/models/validate", json: `{"kind":"knowledge-base"}`, allow: everyone}},
		"GET /api/v1/models/{code}": {
			{path: "/api/v1/models/{model:nis2}", allow: everyone},
			{path: "/api/v1/models/{draftq:eecc}", allow: ncaAll},
		},
		"GET /api/v1/models/{code}/versions":                    {{path: "/api/v1/models/{model:nis}/versions", allow: everyone}},
		"GET /api/v1/models/{code}/diff":                        {{path: "/api/v1/models/{model:nis}/diff?from=1&to=1", allow: everyone}},
		"POST /api/v1/models/{code}/drafts":                     {{path: "/api/v1/models/{model:nis2}/drafts", allow: ncaAll}},
		"PUT /api/v1/models/{code}/versions/{version}":          {{path: "/api/v1/models/{draft:eecc}", json: `{"kind":"regulatory-model"}`, allow: ncaAll}},
		"POST /api/v1/models/{code}/versions/{version}/publish": {{path: "/api/v1/models/{draft:iso27001}/publish", allow: ncaAll}},
		"GET /api/v1/schemas/{kind}":                            {{path: "/api/v1/schemas/sector-model.json", allow: withAnon}},
	}
}

func wantStatus(codes ...int) func(string, int, string, string) error {
	return func(who string, st int, loc, body string) error {
		if !slices.Contains(codes, st) {
			return fmt.Errorf("status %d, want one of %v", st, codes)
		}
		return nil
	}
}

// deniedErr says whether a response is a refusal.
func deniedErr(st int, loc string) error {
	switch {
	case st == http.StatusUnauthorized, st == http.StatusForbidden, st == http.StatusNotFound:
		return nil
	case st == http.StatusSeeOther && strings.HasPrefix(loc, "/login"):
		return nil
	}
	return fmt.Errorf("status %d (location %q), want a refusal", st, loc)
}

func allowedErr(st int, loc string) error {
	switch {
	case st >= 200 && st < 300:
		return nil
	case st >= 300 && st < 400 && !strings.HasPrefix(loc, "/login"):
		return nil
	// The request passed authorization and was then judged on its content.
	case st == http.StatusUnprocessableEntity, st == http.StatusConflict:
		return nil
	}
	return fmt.Errorf("status %d (location %q), want it let through", st, loc)
}

// fill replaces the placeholders of s for actor who.
func (f *fixture) fill(s, who string) string {
	r := strings.NewReplacer("{opA}", f.orgs["opA"].ID, "{opB}", f.orgs["opB"].ID, "{opC}", f.orgs["opC"].ID,
		"{nca}", f.orgs["nca"].ID, "{cert}", f.orgs["cert"].ID, "{plat}", f.orgs["plat"].ID)
	s = r.Replace(s)
	s = f.fillModels(s)
	for strings.Contains(s, "{seq}") {
		s = strings.Replace(s, "{seq}", fmt.Sprint(seq.Add(1)), 1)
	}
	for name, u := range f.users {
		s = strings.ReplaceAll(s, "{user:"+name+"}", u.ID)
	}
	if strings.Contains(s, "{mytoken}") || strings.Contains(s, "{othertoken}") {
		owner := who
		if strings.Contains(s, "{othertoken}") {
			owner = "opB_admin"
			if who == "opB_admin" {
				owner = "opA_admin"
			}
		}
		id := "00000000-0000-4000-8000-000000000000"
		if owner != "anon" {
			_, tok, err := f.auth.CreateToken(cliCtx(), f.users[owner].ID, "probe", 0)
			if err != nil {
				f.t.Fatalf("probe token: %v", err)
			}
			id = tok.ID
		}
		s = strings.NewReplacer("{mytoken}", id, "{othertoken}", id).Replace(s)
	}
	if strings.Contains(s, "{newuser:opA}") {
		u, err := f.dir.CreateUser(cliCtx(), directory.NewUser{OrgID: f.orgs["opA"].ID, Email: fmt.Sprintf("probe%d@example.test", seq.Add(1)),
			Name: "Probe", Roles: []authz.Role{authz.ReadOnly}})
		if err != nil {
			f.t.Fatalf("probe user: %v", err)
		}
		s = strings.ReplaceAll(s, "{newuser:opA}", u.ID)
	}
	if strings.Contains(s, "{link}") {
		l, err := f.addProbeLink()
		if err != nil {
			f.t.Fatalf("probe link: %v", err)
		}
		s = strings.ReplaceAll(s, "{link}", l)
	}
	return s
}

func TestEveryRouteInMatrix(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	m := routeMatrix()
	var patterns []string
	for _, r := range f.srv.Routes() {
		patterns = append(patterns, r.Pattern())
		if _, ok := m[r.Pattern()]; !ok {
			t.Errorf("route %s has no entry in the authorization matrix", r.Pattern())
		}
	}
	for p := range m {
		if !slices.Contains(patterns, p) {
			t.Errorf("matrix entry %s matches no registered route", p)
		}
	}
}

func TestAuthorizationMatrix(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	clients := map[string]*http.Client{}
	for _, who := range withAnon {
		clients[who] = f.client(who)
	}
	for pattern, probes := range routeMatrix() {
		method, _, _ := strings.Cut(pattern, " ")
		for _, p := range probes {
			for _, who := range withAnon {
				// Logging out would end the session the next probes need.
				c := clients[who]
				if pattern == "POST /logout" && who != "anon" {
					c = f.client(who)
				}
				path := f.fill(p.path, who)
				ctype, body := "", ""
				switch {
				case p.json != "":
					ctype, body = "application/json", f.fill(p.json, who)
				case p.form != "" || method == "POST":
					ctype, body = "application/x-www-form-urlencoded", f.fill(p.form, who)
				}
				resp, respBody := f.do(c, method, path, ctype, body)
				loc := resp.Header.Get("Location")
				var err error
				switch {
				case p.check != nil:
					err = p.check(who, resp.StatusCode, loc, respBody)
				case slices.Contains(p.allow, who):
					err = allowedErr(resp.StatusCode, loc)
				default:
					err = deniedErr(resp.StatusCode, loc)
				}
				if err != nil {
					t.Errorf("%s %s as %s: %v\n%.300s", method, path, who, err, respBody)
				}
				if resp.StatusCode >= 500 {
					t.Errorf("%s %s as %s: server error %d", method, path, who, resp.StatusCode)
				}
			}
		}
	}
}
