package web

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

// The main pages cost a fixed number of queries whatever their size: no
// N+1. The same pages are counted with 6 organisations listed and with 56.
func TestMainPagesQueryCount(t *testing.T) {
	f := newFixture(t, storetest.SQLite(t))
	var mu sync.Mutex
	last := 0
	counted := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, c := store.WithQueryCounter(r.Context())
		f.srv.ServeHTTP(w, r.WithContext(ctx))
		mu.Lock()
		last = c.N()
		mu.Unlock()
	}))
	defer counted.Close()
	f.ts.URL = counted.URL // the fixture's clients now go through the counter

	pages := []struct{ who, path string }{
		{"admin", "/orgs"},
		{"admin", "/api/v1/organizations?limit=100"},
		{"nca_analyst", "/orgs"},
		{"nca_analyst", "/api/v1/organizations?limit=100"},
		{"nca_analyst", "/"},
		{"admin", "/"},
		{"admin", "/audit"},
		{"admin", "/api/v1/users"},
		{"opA_admin", "/orgs/" + f.orgs["opA"].ID + "/users"},
	}
	measure := func() map[string]int {
		out := map[string]int{}
		for _, p := range pages {
			resp, body := f.do(f.client(p.who), "GET", p.path, "", "")
			if resp.StatusCode != 200 {
				t.Fatalf("%s %s: %d %s", p.who, p.path, resp.StatusCode, body)
			}
			mu.Lock()
			out[p.who+" "+p.path] = last
			mu.Unlock()
		}
		return out
	}
	small := measure()
	// Fifty more operators served by the NCA, each with children, and
	// users in one of them.
	ctx := cliCtx()
	for i := 0; i < 50; i++ {
		_, err := f.dir.CreateOrg(ctx, directory.OrgInput{ShortName: fmt.Sprintf("op-%02d", i), Name: fmt.Sprintf("Operator %02d", i),
			Country: "LU", TimeZone: "Europe/Luxembourg", Kind: authz.OES, Category: "important",
			Sectors:  []directory.OrgSector{{Sector: "energy", Subsector: "energy/electricity", EntityType: "dso"}},
			Prefixes: []string{fmt.Sprintf("10.%d.0.0/16", i)}, ASNs: []string{fmt.Sprint(64512 + i)}, Domains: []string{fmt.Sprintf("op%02d.example", i)},
			Contacts: []directory.Contact{{Role: "security_officer", Name: "CISO", Email: fmt.Sprintf("ciso@op%02d.example", i)}}})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.dir.CreateUser(ctx, directory.NewUser{OrgID: f.orgs["opA"].ID, Email: fmt.Sprintf("u%02d@example.test", i), Name: "User", Roles: []authz.Role{authz.ReadOnly}}); err != nil {
			t.Fatal(err)
		}
	}
	large := measure()
	for k, n := range small {
		if large[k] != n {
			t.Errorf("%s: %d queries with a few rows, %d with many: the page does a query per row", k, n, large[k])
		}
		t.Logf("%-60s %d queries", k, n)
	}
}
