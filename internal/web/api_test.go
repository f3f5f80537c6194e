package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/notify"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// API journeys: every request and response goes through the OpenAPI
// document (apiSpec.check), so the document and the server cannot drift
// apart without a test failing.

// apiTester sends API requests for one test and checks each exchange
// against the document.
type apiTester struct {
	t    *testing.T
	f    *fixture
	spec *apiSpec
}

func newAPITester(t *testing.T) (*apiTester, *fixture) {
	f := newFixture(t, storetest.SQLite(t))
	return &apiTester{t: t, f: f, spec: loadSpec(t)}, f
}

// apiResp is a response with its body.
type apiResp struct {
	*http.Response
	body []byte
}

// json decodes the body into v.
func (r apiResp) json(t *testing.T, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decode %T: %v\n%s", v, err, r.body)
	}
}

// fields returns the field names of an error response.
func (r apiResp) fields(t *testing.T) []string {
	t.Helper()
	var e apiError
	r.json(t, &e)
	var out []string
	for _, f := range e.Error.Fields {
		out = append(out, f.Field)
	}
	return out
}

// send makes one exchange and checks it against the document. The request
// must fit the document unless badRequest, in which case it must not (the
// test is about the server refusing it). header is name, value pairs.
func (a *apiTester) send(c *http.Client, method, target, ctype, body string, want int, badRequest bool, header ...string) apiResp {
	a.t.Helper()
	req, err := http.NewRequest(method, a.f.ts.URL+target, strings.NewReader(body))
	if err != nil {
		a.t.Fatal(err)
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	resp, err := c.Do(req)
	if err != nil {
		a.t.Fatalf("%s %s: %v", method, target, err)
	}
	b := make([]byte, 0, 1024)
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b = append(b, buf[:n]...)
		if err != nil {
			break
		}
	}
	resp.Body.Close()
	reqP, respP := a.spec.check(exchange{method: method, target: target, reqHeader: req.Header, reqBody: []byte(body),
		status: resp.StatusCode, respHeader: resp.Header, respBody: b})
	switch {
	case badRequest && len(reqP) == 0:
		a.t.Errorf("%s %s: the document accepts this request, but the test means it to be refused: %s", method, target, body)
	case !badRequest && len(reqP) > 0:
		a.t.Errorf("%s %s: the request does not fit the document:\n  %s", method, target, strings.Join(reqP, "\n  "))
	}
	for _, p := range respP {
		a.t.Errorf("%s %s → %d: %s", method, target, resp.StatusCode, p)
	}
	if resp.StatusCode >= 500 {
		a.t.Errorf("%s %s: server error %d: %s", method, target, resp.StatusCode, b)
	}
	if resp.StatusCode != want {
		a.t.Errorf("%s %s: status %d, want %d\n%.800s", method, target, resp.StatusCode, want, b)
	}
	return apiResp{resp, b}
}

// call sends a request that fits the document (JSON body when body != "").
func (a *apiTester) call(c *http.Client, method, target, body string, want int, header ...string) apiResp {
	a.t.Helper()
	ctype := ""
	if body != "" {
		ctype = "application/json"
	}
	return a.send(c, method, target, ctype, body, want, false, header...)
}

// refused sends a request that the document refuses and checks that the
// server refuses it too, with status want naming field (when not "").
func (a *apiTester) refused(c *http.Client, method, target, ctype, body string, want int, field string, header ...string) apiResp {
	a.t.Helper()
	r := a.send(c, method, target, ctype, body, want, true, header...)
	if field != "" && r.StatusCode == want && !slices.Contains(r.fields(a.t), field) {
		a.t.Errorf("%s %s: error fields %v, want %q\n%s", method, target, r.fields(a.t), field, r.body)
	}
	return r
}

// invalid sends a request that fits the document but that the server must
// refuse with 422 naming field.
func (a *apiTester) invalid(c *http.Client, method, target, body, field string) apiResp {
	a.t.Helper()
	r := a.call(c, method, target, body, http.StatusUnprocessableEntity)
	if r.StatusCode == http.StatusUnprocessableEntity && !slices.Contains(r.fields(a.t), field) {
		a.t.Errorf("%s %s: error fields %v, want %q\n%s", method, target, r.fields(a.t), field, r.body)
	}
	return r
}

func jsonBody(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func ids[T any](items []T, id func(T) string) []string {
	out := make([]string, len(items))
	for i, x := range items {
		out[i] = id(x)
	}
	return out
}

func orgID(o directory.Org) string   { return o.ID }
func userID(u directory.User) string { return u.ID }
func linkID(l directory.Link) string { return l.ID }

type orgListResp struct {
	Items  []directory.Org `json:"items"`
	Total  int             `json:"total"`
	Limit  int             `json:"limit"`
	Offset int             `json:"offset"`
}

func TestAPIOpenAPIServed(t *testing.T) {
	a, f := newAPITester(t)
	r := a.call(f.client("anon"), "GET", "/api/v1/openapi.json", "", http.StatusOK)
	if string(r.body) != string(OpenAPIDoc) {
		t.Errorf("served document differs from the embedded one")
	}
}

func TestAPIOrganizations(t *testing.T) {
	a, f := newAPITester(t)
	admin := f.client("admin")

	// Create: 201, Location, canonical form. AS numbers may be given as
	// numbers, as GET answers them, or as strings.
	create := `{"short_name":"water-d","name":"Water D","country":"lu","timezone":"Europe/Luxembourg","kind":"OES",
		"nis2_category":"essential","size_class":"large","description":"Drinking water",
		"sectors":[{"sector":"drinking-water"}],
		"contacts":[{"role":"security_officer","name":"Sec Officer","email":"SOC@Water-D.example"}],
		"prefixes":["2001:db8::/32","198.51.100.0/24"],"asns":["AS64501",64502],"domains":["Water-D.example"]}`
	r := a.call(admin, "POST", "/api/v1/organizations", create, http.StatusCreated)
	var org directory.Org
	r.json(t, &org)
	if loc := r.Header.Get("Location"); loc != "/api/v1/organizations/"+org.ID {
		t.Errorf("Location %q, want /api/v1/organizations/%s", loc, org.ID)
	}
	if org.Country != "LU" || !slices.Equal(org.Domains, []string{"water-d.example"}) || !slices.Equal(org.ASNs, []uint32{64501, 64502}) ||
		!slices.Equal(org.Prefixes, []string{"198.51.100.0/24", "2001:db8::/32"}) || org.Contacts[0].Email != "soc@water-d.example" {
		t.Errorf("created organisation not in canonical form: %+v", org)
	}
	a.invalid(admin, "POST", "/api/v1/organizations", strings.Replace(create, `"Water D"`, `"Water E"`, 1), "short_name")
	a.call(admin, "POST", "/api/v1/organizations", `{"id":"`+org.ID+`","short_name":"water-e","name":"Water E","country":"LU","timezone":"Europe/Luxembourg","kind":"OES"}`, http.StatusConflict)
	a.refused(admin, "POST", "/api/v1/organizations", "application/json", `{"short_name":"water-e","name":"Water E","country":"LU","timezone":"Europe/Luxembourg","kind":"OES","contacts":[{"role":"legal","email":5}]}`,
		http.StatusUnprocessableEntity, "contacts[0].email")

	// Get, by id and by short name.
	var got directory.Org
	a.call(admin, "GET", "/api/v1/organizations/"+org.ID, "", http.StatusOK).json(t, &got)
	if got.ID != org.ID || got.Name != "Water D" {
		t.Errorf("get: %+v", got)
	}
	a.call(admin, "GET", "/api/v1/organizations/WATER-D", "", http.StatusOK).json(t, &got)
	if got.ID != org.ID {
		t.Errorf("get by short name: %s", got.ID)
	}
	a.call(admin, "GET", "/api/v1/organizations/no-such-org", "", http.StatusNotFound)

	// Merge patch.
	path := "/api/v1/organizations/" + org.ID
	a.call(admin, "PATCH", path, `{"description":"Drinking water, south","prefixes":["198.51.100.0/25"],"size_class":null,"asns":[64503]}`, http.StatusOK).json(t, &got)
	if got.Description != "Drinking water, south" || !slices.Equal(got.Prefixes, []string{"198.51.100.0/25"}) || got.SizeClass != "" ||
		!slices.Equal(got.ASNs, []uint32{64503}) || got.Name != "Water D" || len(got.Contacts) != 1 {
		t.Errorf("after patch: %+v", got)
	}
	a.call(admin, "PATCH", path, `{}`, http.StatusOK)
	a.invalid(admin, "PATCH", path, `{"prefixes":["not-a-prefix"]}`, "prefixes[0]")
	a.invalid(admin, "PATCH", path, `{"contacts":[{"role":"legal","email":"not an address"}]}`, "contacts[0].email")
	a.invalid(admin, "PATCH", path, `{"name":null}`, "name")
	a.invalid(admin, "PATCH", path, `{"id":"`+f.orgs["opA"].ID+`"}`, "id")
	a.refused(admin, "PATCH", path, "application/json", `{"prefixes":"198.51.100.0/24"}`, http.StatusUnprocessableEntity, "prefixes")
	a.refused(admin, "PATCH", path, "application/json", `{"colour":"blue"}`, http.StatusUnprocessableEntity, "colour")
	a.refused(admin, "PATCH", path, "application/json", `{"description":`, http.StatusUnprocessableEntity, "body")
	a.call(admin, "PATCH", "/api/v1/organizations/no-such-org", `{}`, http.StatusNotFound)

	// List: search, filters, paging.
	var list orgListResp
	a.call(admin, "GET", "/api/v1/organizations?q=water-d", "", http.StatusOK).json(t, &list)
	if list.Total != 1 || len(list.Items) != 1 || list.Items[0].ID != org.ID {
		t.Errorf("search by short name: %+v", list)
	}
	a.call(admin, "GET", "/api/v1/organizations?q=198.51.100.7", "", http.StatusOK).json(t, &list)
	if !slices.Contains(ids(list.Items, orgID), org.ID) {
		t.Errorf("search by address: %v", ids(list.Items, orgID))
	}
	a.call(admin, "GET", "/api/v1/organizations?kind=NCA&country=LU", "", http.StatusOK).json(t, &list)
	if list.Total != 1 || list.Items[0].ID != f.orgs["nca"].ID {
		t.Errorf("kind filter: %+v", ids(list.Items, orgID))
	}
	var all orgListResp
	a.call(admin, "GET", "/api/v1/organizations", "", http.StatusOK).json(t, &all)
	if all.Total != 7 || len(all.Items) != 7 || all.Limit != directory.DefaultLimit || all.Offset != 0 {
		t.Fatalf("all: total %d, %d items, limit %d", all.Total, len(all.Items), all.Limit)
	}
	var paged []string
	for off := 0; off < all.Total; off += 3 {
		a.call(admin, "GET", fmt.Sprintf("/api/v1/organizations?limit=3&offset=%d", off), "", http.StatusOK).json(t, &list)
		if list.Total != all.Total || list.Limit != 3 || list.Offset != off || len(list.Items) != min(3, all.Total-off) {
			t.Errorf("page at %d: total %d limit %d offset %d, %d items", off, list.Total, list.Limit, list.Offset, len(list.Items))
		}
		paged = append(paged, ids(list.Items, orgID)...)
	}
	if !slices.Equal(paged, ids(all.Items, orgID)) {
		t.Errorf("pages %v, want %v", paged, ids(all.Items, orgID))
	}
	a.call(admin, "GET", "/api/v1/organizations?offset=100", "", http.StatusOK).json(t, &list)
	if list.Total != 7 || len(list.Items) != 0 {
		t.Errorf("past the end: %+v", list)
	}
	a.refused(admin, "GET", "/api/v1/organizations?limit=501", "", "", http.StatusUnprocessableEntity, "limit")
	a.refused(admin, "GET", "/api/v1/organizations?offset=-1", "", "", http.StatusUnprocessableEntity, "offset")
	a.refused(admin, "GET", "/api/v1/organizations?kind=bank", "", "", http.StatusUnprocessableEntity, "kind")
	a.invalid(admin, "GET", "/api/v1/organizations?sector=knitting", "", "sector")

	// Supervision and users of one organisation.
	var links struct{ Items []directory.Link }
	a.call(admin, "GET", "/api/v1/organizations/"+f.orgs["opA"].ID+"/supervision", "", http.StatusOK).json(t, &links)
	roles := map[authz.LinkRole]string{}
	for _, l := range links.Items {
		roles[l.Role] = l.AuthorityOrgID
	}
	if roles[authz.SectoralAuthority] != f.orgs["nca"].ID || roles[authz.CSIRTLink] != f.orgs["cert"].ID || roles[authz.SPOCLink] != f.orgs["nca"].ID {
		t.Errorf("opA is served by %v", roles)
	}
	var users struct{ Items []directory.User }
	a.call(admin, "GET", "/api/v1/organizations/grid-a/users", "", http.StatusOK).json(t, &users)
	if len(users.Items) != 3 {
		t.Errorf("opA users: %v", ids(users.Items, userID))
	}
	a.call(admin, "GET", "/api/v1/organizations/no-such-org/users", "", http.StatusNotFound)
}

func TestAPIOrganizationsAsOperator(t *testing.T) {
	a, f := newAPITester(t)
	op := f.client("opA_admin")

	var list orgListResp
	a.call(op, "GET", "/api/v1/organizations", "", http.StatusOK).json(t, &list)
	got := ids(list.Items, orgID)
	for _, want := range []string{"opA", "nca", "cert", "plat"} {
		if !slices.Contains(got, f.orgs[want].ID) {
			t.Errorf("operator does not see %s", want)
		}
	}
	for _, hidden := range []string{"opB", "opC"} {
		if slices.Contains(got, f.orgs[hidden].ID) {
			t.Errorf("operator sees %s", hidden)
		}
	}
	if list.Total != len(list.Items) {
		t.Errorf("total %d counts what the operator may not see (%d items)", list.Total, len(list.Items))
	}

	// Another operator exists but is not the operator's business.
	r := a.call(op, "GET", "/api/v1/organizations/"+f.orgs["opB"].ID, "", http.StatusForbidden)
	var e apiError
	r.json(t, &e)
	if e.Error.Code != "forbidden" {
		t.Errorf("code %q", e.Error.Code)
	}
	a.call(op, "GET", "/api/v1/organizations/"+f.orgs["opB"].ID+"/supervision", "", http.StatusForbidden)
	a.call(op, "GET", "/api/v1/organizations/"+f.orgs["opB"].ID+"/users", "", http.StatusForbidden)
	a.call(op, "PATCH", "/api/v1/organizations/"+f.orgs["opB"].ID, `{"description":"x"}`, http.StatusForbidden)

	// Its own entry: contacts and constituency, not the regulated fields.
	var o directory.Org
	a.call(op, "PATCH", "/api/v1/organizations/grid-a", `{"description":"TSO","domains":["grid-a.example","grid-a.test"]}`, http.StatusOK).json(t, &o)
	if o.Description != "TSO" || len(o.Domains) != 2 {
		t.Errorf("own patch: %+v", o)
	}
	r = a.call(op, "PATCH", "/api/v1/organizations/grid-a", `{"country":"BE","nis2_category":"important"}`, http.StatusForbidden)
	if fs := r.fields(t); !slices.Contains(fs, "country") || !slices.Contains(fs, "nis2_category") {
		t.Errorf("forbidden fields %v", fs)
	}
	a.call(op, "POST", "/api/v1/organizations", `{"short_name":"mine","name":"Mine","country":"LU","timezone":"Europe/Luxembourg","kind":"OES"}`, http.StatusForbidden)
	a.call(op, "GET", "/api/v1/directory", "", http.StatusForbidden)
	a.call(op, "POST", "/api/v1/directory", `{"format":"nisduc-directory","version":1}`, http.StatusForbidden)
}

func TestAPIDirectoryTransfer(t *testing.T) {
	a, f := newAPITester(t)
	admin := f.client("admin")

	r := a.call(admin, "GET", "/api/v1/directory", "", http.StatusOK)
	var doc map[string]any
	r.json(t, &doc)
	orgs, _ := doc["organizations"].([]any)
	links, _ := doc["supervision"].([]any)
	if len(orgs) != 6 || len(links) != 5 {
		t.Fatalf("export: %d organisations, %d links", len(orgs), len(links))
	}

	// Re-importing the export changes nothing.
	var res directory.ImportResult
	a.call(admin, "POST", "/api/v1/directory", string(r.body), http.StatusOK).json(t, &res)
	if res != (directory.ImportResult{Unchanged: 6}) {
		t.Errorf("re-import: %+v", res)
	}

	// A changed organisation, a new one and a new link; charset allowed.
	orgs[0].(map[string]any)["name"] = "Renamed"
	newID := uuid.NewString()
	doc["organizations"] = append(orgs, map[string]any{"id": newID, "short_name": "new-f", "name": "New F", "country": "LU",
		"timezone": "Europe/Luxembourg", "kind": "CSIRT"})
	doc["supervision"] = append(links, map[string]any{"id": uuid.NewString(), "country": "LU", "sector": "health", "role": "csirt", "authority": newID})
	a.send(admin, "POST", "/api/v1/directory", "application/json; charset=utf-8", jsonBody(t, doc), http.StatusOK, false).json(t, &res)
	if res != (directory.ImportResult{Created: 1, Updated: 1, Unchanged: 5, LinksCreated: 1}) {
		t.Errorf("import: %+v", res)
	}
	var o directory.Org
	a.call(admin, "GET", "/api/v1/organizations/new-f", "", http.StatusOK).json(t, &o)
	if o.ID != newID {
		t.Errorf("imported organisation has id %s, want %s", o.ID, newID)
	}

	// Problems are reported with their JSON paths; nothing is stored.
	bad := map[string]any{"format": "nisduc-directory", "version": 1, "organizations": []any{
		map[string]any{"id": uuid.NewString(), "short_name": "bad-g", "name": "Bad G", "country": "LU", "timezone": "Europe/Luxembourg",
			"kind": "OES", "prefixes": []any{"192.0.2.0/24", "nonsense"}}}}
	a.invalid(admin, "POST", "/api/v1/directory", jsonBody(t, bad), "organizations[0].prefixes[1]")
	a.call(admin, "GET", "/api/v1/organizations/bad-g", "", http.StatusNotFound)
	a.refused(admin, "POST", "/api/v1/directory", "application/json", `{"format":"nisduc-directory","version":2}`, http.StatusUnprocessableEntity, "version")
	a.refused(admin, "POST", "/api/v1/directory", "application/json", `{"format":"nisduc-directory","version":1,"colour":"blue"}`, http.StatusUnprocessableEntity, "colour")
	a.refused(admin, "POST", "/api/v1/directory", "application/json", `{"format":`, http.StatusUnprocessableEntity, "document")
	a.refused(admin, "POST", "/api/v1/directory", "text/csv", "id,name\n", http.StatusUnprocessableEntity, "Content-Type")
}

func TestAPISupervision(t *testing.T) {
	a, f := newAPITester(t)
	admin := f.client("admin")
	cert := f.orgs["cert"].ID

	body := `{"country":"LU","sector":"health","role":"csirt","authority":"` + cert + `","regulatory_model":"nis2"}`
	var l directory.Link
	a.call(admin, "POST", "/api/v1/supervision", body, http.StatusCreated).json(t, &l)
	if l.AuthorityShortName != "cert-lu" || l.AuthorityKind != authz.CSIRT || l.Model != "nis2" || l.CreatedAt.IsZero() {
		t.Errorf("created link: %+v", l)
	}
	a.call(admin, "POST", "/api/v1/supervision", body, http.StatusConflict)
	a.invalid(admin, "POST", "/api/v1/supervision", `{"country":"LU","sector":"health","role":"sectoral_authority","authority":"`+cert+`"}`, "authority")
	a.invalid(admin, "POST", "/api/v1/supervision", `{"country":"LU","sector":"knitting","role":"csirt","authority":"`+cert+`"}`, "sector")
	a.refused(admin, "POST", "/api/v1/supervision", "application/json", `{"country":"LU","sector":"health","role":"boss","authority":"`+cert+`"}`, http.StatusUnprocessableEntity, "role")
	a.refused(admin, "POST", "/api/v1/supervision", "application/json", `{"id":"`+uuid.NewString()+`","country":"LU","sector":"health","role":"csirt","authority":"`+cert+`"}`, http.StatusUnprocessableEntity, "id")

	var list struct{ Items []directory.Link }
	a.call(admin, "GET", "/api/v1/supervision?country=lu&sector=health&role=csirt&authority="+cert, "", http.StatusOK).json(t, &list)
	if !slices.Equal(ids(list.Items, linkID), []string{l.ID}) {
		t.Errorf("filtered links: %v, want %s", ids(list.Items, linkID), l.ID)
	}
	a.call(f.client("opB_admin"), "GET", "/api/v1/supervision", "", http.StatusOK).json(t, &list)
	if len(list.Items) != 6 {
		t.Errorf("an operator lists %d links, want all 6", len(list.Items))
	}
	a.refused(admin, "GET", "/api/v1/supervision?role=boss", "", "", http.StatusUnprocessableEntity, "role")
	a.refused(admin, "GET", "/api/v1/supervision?authority=cert-lu", "", "", http.StatusUnprocessableEntity, "authority")

	a.call(f.client("opA_admin"), "DELETE", "/api/v1/supervision/"+l.ID, "", http.StatusForbidden)
	a.call(admin, "DELETE", "/api/v1/supervision/"+l.ID, "", http.StatusNoContent)
	a.call(admin, "DELETE", "/api/v1/supervision/"+l.ID, "", http.StatusNotFound)
	a.call(f.client("opA_admin"), "POST", "/api/v1/supervision", body, http.StatusForbidden)
}

func TestAPIUsers(t *testing.T) {
	a, f := newAPITester(t)
	admin := f.client("admin")
	opA := f.orgs["opA"].ID

	// With a password, then without (by short name).
	var u, u2 directory.User
	r := a.call(admin, "POST", "/api/v1/users", `{"org_id":"`+opA+`","email":"New.Person@Example.test","name":"New Person","roles":["risk_manager"],
		"language":"fr","password":"another long passphrase 77"}`, http.StatusCreated)
	r.json(t, &u)
	if loc := r.Header.Get("Location"); loc != "/api/v1/users/"+u.ID {
		t.Errorf("Location %q", loc)
	}
	if !u.HasPassword || u.Email != "new.person@example.test" || u.OrgID != opA || u.Language != "fr" || !slices.Equal(u.Roles, []authz.Role{authz.RiskManager}) {
		t.Errorf("created user: %+v", u)
	}
	a.call(admin, "POST", "/api/v1/users", `{"org_id":"grid-a","email":"second@example.test","name":"Second","roles":["read_only"]}`, http.StatusCreated).json(t, &u2)
	if u2.HasPassword || u2.OrgID != opA || u2.Language != "en" {
		t.Errorf("created user without password: %+v", u2)
	}
	a.invalid(admin, "POST", "/api/v1/users", `{"org_id":"grid-a","email":"third@example.test","name":"Third","roles":["read_only"],"password":"password"}`, "password")
	a.invalid(admin, "POST", "/api/v1/users", `{"org_id":"grid-a","email":"SECOND@example.test","name":"Second again","roles":["read_only"]}`, "email")
	a.invalid(admin, "POST", "/api/v1/users", `{"org_id":"grid-a","email":"third@example.test","name":"Third","roles":["authority_analyst"]}`, "roles[0]")
	a.call(admin, "POST", "/api/v1/users", `{"org_id":"no-such-org","email":"third@example.test","name":"Third","roles":["read_only"]}`, http.StatusNotFound)
	a.refused(admin, "POST", "/api/v1/users", "application/json", `{"org_id":"grid-a","email":"third@example.test","name":"Third","roles":"read_only"}`, http.StatusUnprocessableEntity, "roles")

	// List, search, get.
	var list struct{ Items []directory.User }
	a.call(admin, "GET", "/api/v1/users?org=grid-a", "", http.StatusOK).json(t, &list)
	if got := ids(list.Items, userID); len(got) != 5 || !slices.Contains(got, u.ID) || !slices.Contains(got, u2.ID) {
		t.Errorf("opA users: %v", got)
	}
	a.call(admin, "GET", "/api/v1/users?q=new.person", "", http.StatusOK).json(t, &list)
	if !slices.Equal(ids(list.Items, userID), []string{u.ID}) {
		t.Errorf("search: %v", ids(list.Items, userID))
	}
	a.call(admin, "GET", "/api/v1/users?role=platform_admin&limit=10&offset=0", "", http.StatusOK).json(t, &list)
	if !slices.Equal(ids(list.Items, userID), []string{f.users["admin"].ID}) {
		t.Errorf("role filter: %v", ids(list.Items, userID))
	}
	a.call(admin, "GET", "/api/v1/users?limit=2&offset=2", "", http.StatusOK).json(t, &list)
	if len(list.Items) != 2 {
		t.Errorf("page of users: %d", len(list.Items))
	}
	a.call(admin, "GET", "/api/v1/users?org=no-such-org", "", http.StatusNotFound)
	a.refused(admin, "GET", "/api/v1/users?role=boss", "", "", http.StatusUnprocessableEntity, "role")
	a.refused(admin, "GET", "/api/v1/users?limit=1001", "", "", http.StatusUnprocessableEntity, "limit")
	var got directory.User
	a.call(admin, "GET", "/api/v1/users/"+u.ID, "", http.StatusOK).json(t, &got)
	if got.ID != u.ID {
		t.Errorf("get: %+v", got)
	}
	a.call(admin, "GET", "/api/v1/users/"+uuid.NewString(), "", http.StatusNotFound)
	a.refused(admin, "GET", "/api/v1/users/nope", "", "", http.StatusNotFound, "")

	// Patch roles, and what may not be patched.
	a.call(admin, "PATCH", "/api/v1/users/"+u.ID, `{"roles":["incident_notifier","risk_manager"]}`, http.StatusOK).json(t, &got)
	if !slices.Equal(got.Roles, []authz.Role{authz.RiskManager, authz.IncidentNotifier}) || got.Name != "New Person" {
		t.Errorf("after patch: %+v", got)
	}
	a.invalid(admin, "PATCH", "/api/v1/users/"+u.ID, `{"roles":["platform_admin"]}`, "roles[0]")
	a.invalid(admin, "PATCH", "/api/v1/users/"+u.ID, `{"timezone":"Mars/Olympus"}`, "timezone")
	a.refused(admin, "PATCH", "/api/v1/users/"+u.ID, "application/json", `{"email":"x@example.test"}`, http.StatusUnprocessableEntity, "email")
	a.call(admin, "PATCH", "/api/v1/users/"+uuid.NewString(), `{"name":"Nobody"}`, http.StatusNotFound)
	a.call(admin, "PATCH", "/api/v1/users/"+f.users["admin"].ID, `{"disabled":true}`, http.StatusUnprocessableEntity)

	// A user renames themselves but may not change their roles.
	notifier := f.client("opA_notifier")
	a.call(notifier, "PATCH", "/api/v1/users/"+f.users["opA_notifier"].ID, `{"name":"Notifier A","language":"de"}`, http.StatusOK).json(t, &got)
	if got.Name != "Notifier A" || got.Language != "de" {
		t.Errorf("self patch: %+v", got)
	}
	a.call(notifier, "PATCH", "/api/v1/users/"+f.users["opA_notifier"].ID, `{"roles":["operator_admin"]}`, http.StatusForbidden)
	a.call(notifier, "GET", "/api/v1/users/"+f.users["opA_notifier"].ID, "", http.StatusOK)
	a.call(notifier, "GET", "/api/v1/users/"+f.users["opA_risk"].ID, "", http.StatusForbidden)
	a.call(notifier, "GET", "/api/v1/users", "", http.StatusOK).json(t, &list)
	if len(list.Items) != 0 {
		t.Errorf("a notifier lists users: %v", ids(list.Items, userID))
	}

	// An operator administrator manages its own organisation only.
	opAdmin := f.client("opA_admin")
	a.call(opAdmin, "POST", "/api/v1/users", `{"org_id":"grid-a","email":"by.operator@example.test","name":"By Operator","roles":["incident_notifier"]}`, http.StatusCreated)
	a.call(opAdmin, "POST", "/api/v1/users", `{"org_id":"rail-b","email":"intruder@example.test","name":"Intruder","roles":["incident_notifier"]}`, http.StatusForbidden)
	a.call(opAdmin, "GET", "/api/v1/users", "", http.StatusOK).json(t, &list)
	for _, x := range list.Items {
		if x.OrgID != opA {
			t.Errorf("operator administrator lists %s of %s", x.Email, x.OrgShortName)
		}
	}
	if len(list.Items) != 6 {
		t.Errorf("operator administrator lists %d users, want opA's 6", len(list.Items))
	}
	a.call(opAdmin, "GET", "/api/v1/organizations/grid-a/users", "", http.StatusOK)
}

type tokenResp struct {
	ID         string     `json:"id"`
	Name       string     `json:"name"`
	Prefix     string     `json:"prefix"`
	CreatedAt  time.Time  `json:"created_at"`
	ExpiresAt  time.Time  `json:"expires_at"`
	LastUsedAt *time.Time `json:"last_used_at"`
	RevokedAt  *time.Time `json:"revoked_at"`
	Token      string     `json:"token"`
}

func TestAPITokens(t *testing.T) {
	a, f := newAPITester(t)
	op := f.client("opA_admin")
	anon := f.client("anon")

	var tok tokenResp
	a.call(op, "POST", "/api/v1/tokens", `{"name":"ci","ttl_days":30}`, http.StatusCreated).json(t, &tok)
	if !strings.HasPrefix(tok.Token, tok.Prefix) || tok.ExpiresAt.Sub(tok.CreatedAt) != 30*24*time.Hour || tok.RevokedAt != nil {
		t.Errorf("created token: %+v", tok)
	}
	var def tokenResp
	a.call(op, "POST", "/api/v1/tokens", `{"name":"default"}`, http.StatusCreated).json(t, &def)
	if d := def.ExpiresAt.Sub(def.CreatedAt); d != 90*24*time.Hour {
		t.Errorf("default validity %v", d)
	}
	a.refused(op, "POST", "/api/v1/tokens", "application/json", `{"name":"long","ttl_days":400}`, http.StatusUnprocessableEntity, "ttl_days")
	// So many days that they overflow a duration must not wrap around to
	// a valid one.
	a.refused(op, "POST", "/api/v1/tokens", "application/json", `{"name":"wrap","ttl_days":213504}`, http.StatusUnprocessableEntity, "ttl_days")
	a.refused(op, "POST", "/api/v1/tokens", "application/json", `{"name":"past","ttl_days":-1}`, http.StatusUnprocessableEntity, "ttl_days")
	a.refused(op, "POST", "/api/v1/tokens", "application/json", `{"name":""}`, http.StatusUnprocessableEntity, "name")

	var list struct{ Items []tokenResp }
	a.call(op, "GET", "/api/v1/tokens", "", http.StatusOK).json(t, &list)
	if got := ids(list.Items, func(x tokenResp) string { return x.ID }); !slices.Equal(got, []string{def.ID, tok.ID}) && !slices.Equal(got, []string{tok.ID, def.ID}) {
		t.Errorf("tokens: %v", got)
	}

	// The token acts as its owner, for reads and changes.
	bearer := []string{"Authorization", "Bearer " + tok.Token}
	var me apiActor
	a.call(anon, "GET", "/api/v1/me", "", http.StatusOK, bearer...).json(t, &me)
	if me.UserID != f.users["opA_admin"].ID {
		t.Errorf("token acts as %s", me.UserID)
	}
	a.call(anon, "POST", "/api/v1/inbox/read", `{}`, http.StatusNoContent, bearer...)
	a.call(anon, "GET", "/api/v1/organizations/"+f.orgs["opB"].ID, "", http.StatusForbidden, bearer...)
	a.call(op, "GET", "/api/v1/tokens", "", http.StatusOK).json(t, &list)
	for _, x := range list.Items {
		if x.ID == tok.ID && x.LastUsedAt == nil {
			t.Errorf("last_used_at not set after use")
		}
	}

	// Another user's token is not found; revoking twice is fine.
	other := f.client("opB_admin")
	a.call(other, "DELETE", "/api/v1/tokens/"+tok.ID, "", http.StatusNotFound)
	a.call(op, "DELETE", "/api/v1/tokens/"+tok.ID, "", http.StatusNoContent)
	a.call(op, "DELETE", "/api/v1/tokens/"+tok.ID, "", http.StatusNoContent)
	a.call(op, "DELETE", "/api/v1/tokens/"+uuid.NewString(), "", http.StatusNotFound)
	r := a.call(anon, "GET", "/api/v1/me", "", http.StatusUnauthorized, bearer...)
	if !strings.HasPrefix(r.Header.Get("WWW-Authenticate"), "Bearer") {
		t.Errorf("WWW-Authenticate %q", r.Header.Get("WWW-Authenticate"))
	}
	a.call(op, "GET", "/api/v1/tokens", "", http.StatusOK).json(t, &list)
	for _, x := range list.Items {
		if x.ID == tok.ID && x.RevokedAt == nil {
			t.Errorf("revoked_at not set")
		}
	}

	// A token from the fixture works the same way.
	a.call(anon, "GET", "/api/v1/organizations", "", http.StatusOK, "Authorization", "Bearer "+f.token("nca_analyst"))
}

func TestAPIAuthenticationAndInput(t *testing.T) {
	a, f := newAPITester(t)
	anon := f.client("anon")
	admin := f.client("admin")

	for _, target := range []string{"/api/v1/me", "/api/v1/organizations", "/api/v1/audit", "/api/v1/inbox"} {
		r := a.call(anon, "GET", target, "", http.StatusUnauthorized)
		var e apiError
		r.json(t, &e)
		if e.Error.Code != "unauthenticated" || r.Header.Get("WWW-Authenticate") == "" {
			t.Errorf("anonymous %s: %s, WWW-Authenticate %q", target, r.body, r.Header.Get("WWW-Authenticate"))
		}
	}
	a.call(anon, "POST", "/api/v1/organizations", `{"short_name":"anon","name":"Anon","country":"LU","timezone":"Europe/Luxembourg","kind":"OES"}`, http.StatusUnauthorized)
	a.call(anon, "GET", "/api/v1/me", "", http.StatusUnauthorized, "Authorization", "Bearer ndc_not-a-token")
	a.call(anon, "GET", "/api/v1/me", "", http.StatusUnauthorized, "Authorization", "Bearer ndc_"+strings.Repeat("A", 43))

	// Bodies are read strictly.
	a.refused(admin, "POST", "/api/v1/tokens", "application/json", `{"name":`, http.StatusUnprocessableEntity, "body")
	a.refused(admin, "POST", "/api/v1/tokens", "application/json", `{"name":"x"} {}`, http.StatusUnprocessableEntity, "body")
	a.refused(admin, "POST", "/api/v1/tokens", "application/json", ``, http.StatusUnprocessableEntity, "body")
	a.refused(admin, "POST", "/api/v1/tokens", "application/json", `{"name":"x","colour":"blue"}`, http.StatusUnprocessableEntity, "colour")
	a.refused(admin, "POST", "/api/v1/tokens", "application/json", `{"name":5}`, http.StatusUnprocessableEntity, "name")
	a.refused(admin, "POST", "/api/v1/tokens", "text/plain", `{"name":"x"}`, http.StatusUnprocessableEntity, "Content-Type")
	a.refused(admin, "POST", "/api/v1/organizations", "application/x-www-form-urlencoded", `short_name=x`, http.StatusUnprocessableEntity, "Content-Type")
	a.refused(admin, "POST", "/api/v1/organizations", "application/json", `{"short_name":`, http.StatusUnprocessableEntity, "body")
	a.refused(admin, "POST", "/api/v1/organizations", "application/json", `{"short_name":"x-y","name":"X","country":"LU","timezone":"Europe/Luxembourg","kind":"OES","colour":"blue"}`,
		http.StatusUnprocessableEntity, "colour")
	a.refused(admin, "PATCH", "/api/v1/users/"+f.users["opA_risk"].ID, "text/plain", `{"name":"x"}`, http.StatusUnprocessableEntity, "Content-Type")
	a.refused(admin, "POST", "/api/v1/inbox/read", "application/json", `[]`, http.StatusUnprocessableEntity, "")

	// A browser page of another site may not use the session.
	a.call(admin, "POST", "/api/v1/tokens", `{"name":"csrf"}`, http.StatusForbidden, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")
	a.call(admin, "GET", "/api/v1/me", "", http.StatusOK, "Sec-Fetch-Site", "cross-site", "Origin", "https://evil.example")

	// Who am I.
	for _, tt := range []struct {
		who     string
		kind    authz.OrgKind
		roles   []authz.Role
		sectors []string
	}{
		{"admin", authz.OtherAuthority, []authz.Role{authz.PlatformAdmin}, []string{}},
		{"nca_energy", authz.NCA, []authz.Role{authz.AuthorityAnalyst}, []string{"energy"}},
		{"opA_risk", authz.OES, []authz.Role{authz.RiskManager}, []string{}},
	} {
		var me apiActor
		a.call(f.client(tt.who), "GET", "/api/v1/me", "", http.StatusOK).json(t, &me)
		u := f.users[tt.who]
		if me.UserID != u.ID || me.Email != u.Email || me.OrgID != u.OrgID || me.OrgKind != tt.kind || !slices.Equal(me.Roles, tt.roles) ||
			!slices.Equal(me.Sectors, tt.sectors) || me.Language != "en" || me.TimeZone != "Europe/Luxembourg" {
			t.Errorf("me as %s: %+v", tt.who, me)
		}
	}
}

func TestAPIInbox(t *testing.T) {
	a, f := newAPITester(t)
	c := f.client("opA_risk")
	err := f.db.Update(context.Background(), func(tx *store.Tx) error {
		for i := range 3 {
			if err := f.notify.Send(cliCtx(), tx, notify.Message{UserID: f.users["opA_risk"].ID, Kind: "risk.returned",
				Subject: fmt.Sprintf("Assessment %d returned", i), Body: "Please review.", Link: "/"}); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	type inbox struct {
		Items  []apiNotification `json:"items"`
		Unread int               `json:"unread"`
	}
	var in inbox
	a.call(c, "GET", "/api/v1/inbox", "", http.StatusOK).json(t, &in)
	if len(in.Items) != 3 || in.Unread != 3 || in.Items[0].ReadAt != nil {
		t.Fatalf("inbox: %+v", in)
	}
	first := in.Items[0].ID
	a.call(c, "POST", "/api/v1/inbox/read", `{"id":"`+first+`"}`, http.StatusNoContent)
	a.call(c, "POST", "/api/v1/inbox/read", `{"id":"`+first+`"}`, http.StatusNoContent)
	a.call(c, "GET", "/api/v1/inbox", "", http.StatusOK).json(t, &in)
	if in.Unread != 2 || in.Items[0].ID != first || in.Items[0].ReadAt == nil {
		t.Errorf("after reading one: %+v", in)
	}
	a.call(c, "POST", "/api/v1/inbox/read", `{"id":"`+uuid.NewString()+`"}`, http.StatusNotFound)
	a.call(f.client("opA_admin"), "POST", "/api/v1/inbox/read", `{"id":"`+in.Items[1].ID+`"}`, http.StatusNotFound)
	a.refused(c, "POST", "/api/v1/inbox/read", "application/json", `{"id":"nope"}`, http.StatusUnprocessableEntity, "id")
	a.call(c, "POST", "/api/v1/inbox/read", `{}`, http.StatusNoContent)
	a.call(c, "GET", "/api/v1/inbox", "", http.StatusOK).json(t, &in)
	if in.Unread != 0 {
		t.Errorf("after reading all: %d unread", in.Unread)
	}
	a.call(f.client("opB_admin"), "GET", "/api/v1/inbox", "", http.StatusOK).json(t, &in)
	if len(in.Items) != 0 || in.Unread != 0 {
		t.Errorf("another user's inbox: %+v", in)
	}
}

func TestAPIAudit(t *testing.T) {
	a, f := newAPITester(t)
	c := f.client("nca_analyst")
	type page struct {
		Items      []apiAuditRecord `json:"items"`
		NextBefore int64            `json:"next_before"`
	}

	var whole page
	a.call(c, "GET", "/api/v1/audit?limit=500", "", http.StatusOK).json(t, &whole)
	if len(whole.Items) < 5 || whole.NextBefore != 0 {
		t.Fatalf("whole trail: %d entries, next_before %d", len(whole.Items), whole.NextBefore)
	}
	var seqs []int64
	target := "/api/v1/audit?limit=2"
	pages := 0
	for target != "" && pages < 100 {
		var p page
		a.call(c, "GET", target, "", http.StatusOK).json(t, &p)
		pages++
		for _, r := range p.Items {
			seqs = append(seqs, r.Seq)
		}
		target = ""
		switch {
		case len(p.Items) == 2 && p.NextBefore != p.Items[1].Seq:
			t.Errorf("full page: next_before %d, want the last seq %d", p.NextBefore, p.Items[1].Seq)
		case len(p.Items) < 2 && p.NextBefore != 0:
			t.Errorf("last page has next_before %d", p.NextBefore)
		case p.NextBefore != 0:
			target = fmt.Sprintf("/api/v1/audit?limit=2&before=%d", p.NextBefore)
		}
	}
	if pages < 3 {
		t.Errorf("only %d pages", pages)
	}
	var want []int64
	for _, r := range whole.Items {
		want = append(want, r.Seq)
	}
	if !slices.Equal(seqs, want) {
		t.Errorf("paged seqs %v, want %v", seqs, want)
	}

	// Filters, and what an analyst may not see.
	var p page
	a.call(c, "GET", "/api/v1/audit?org=rail-b&action=user.create", "", http.StatusOK).json(t, &p)
	if len(p.Items) != 1 || p.Items[0].OrgID != f.orgs["opB"].ID || p.Items[0].ObjectID != f.users["opB_admin"].ID {
		t.Errorf("opB's user.create: %+v", p.Items)
	}
	a.call(c, "GET", "/api/v1/audit?org="+f.orgs["opC"].ID, "", http.StatusForbidden)
	a.call(c, "GET", "/api/v1/audit?org=no-such-org", "", http.StatusNotFound)
	a.call(c, "GET", "/api/v1/audit?actor="+uuid.NewString(), "", http.StatusOK)
	a.refused(c, "GET", "/api/v1/audit?limit=501", "", "", http.StatusUnprocessableEntity, "limit")
	a.refused(c, "GET", "/api/v1/audit?limit=x", "", "", http.StatusUnprocessableEntity, "limit")
	a.refused(c, "GET", "/api/v1/audit?before=x", "", "", http.StatusUnprocessableEntity, "before")
	a.refused(c, "GET", "/api/v1/audit?actor=nope", "", "", http.StatusUnprocessableEntity, "actor_user_id")
	a.call(f.client("opA_risk"), "GET", "/api/v1/audit", "", http.StatusForbidden)

	// The platform administrator sees platform-wide entries too.
	a.call(f.client("admin"), "GET", "/api/v1/directory", "", http.StatusOK)
	a.call(f.client("admin"), "GET", "/api/v1/audit?action=directory.export", "", http.StatusOK).json(t, &p)
	if len(p.Items) != 1 || p.Items[0].OrgID != "" || p.Items[0].ActorUserID != f.users["admin"].ID {
		t.Errorf("directory.export entry: %+v", p.Items)
	}
	a.call(c, "GET", "/api/v1/audit?action=directory.export", "", http.StatusOK).json(t, &p)
	if len(p.Items) != 0 {
		t.Errorf("an analyst sees platform-wide entries: %+v", p.Items)
	}
}
