package model

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
	"github.com/nisduc/nisduc/internal/storetest"
)

func testService(t *testing.T, db *store.DB) (*Service, *audit.Log) {
	t.Helper()
	log := audit.New([]byte(strings.Repeat("k", 32)))
	s := New(db, log)
	s.builtins = func() (*Set, []Problem) { return LoadDir(os.DirFS("testdata"), "valid") }
	return s, log
}

var (
	analyst  = &authz.Actor{UserID: "u-analyst", Email: "analyst@nca.example", OrgID: "org-nca", OrgKind: authz.NCA, Roles: []authz.Role{authz.AuthorityAnalyst}}
	operator = &authz.Actor{UserID: "u-op", Email: "op@grid.example", OrgID: "org-op", OrgKind: authz.OES, Roles: []authz.Role{authz.OperatorAdmin, authz.RiskManager}}
	observer = &authz.Actor{UserID: "u-obs", Email: "obs@csirt.example", OrgID: "org-csirt", OrgKind: authz.CSIRT, Roles: []authz.Role{authz.Observer}}
)

func as(a *authz.Actor) context.Context { return authz.WithActor(context.Background(), a) }

func wantCode(t *testing.T, err error, code errs.Code) {
	t.Helper()
	if errs.CodeOf(err) != code {
		t.Fatalf("got %v (%s), want %s", err, errs.CodeOf(err), code)
	}
}

func TestServiceLifecycle(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, log := testService(t, db)
		ctx := as(analyst)
		if err := s.SyncBuiltins(context.Background()); err != nil {
			t.Fatal(err)
		}
		if err := s.SyncBuiltins(context.Background()); err != nil {
			t.Fatalf("second sync: %v", err)
		}
		list, err := s.List(ctx)
		if err != nil || len(list) != 3 {
			t.Fatalf("List: %v %v", list, err)
		}
		for _, m := range list {
			if m.Status != Published || m.Version != 1 || !m.Builtin || m.Published != 1 || m.Draft != 0 {
				t.Errorf("after sync: %+v", m)
			}
		}
		valid := validSet(t)
		got, err := s.Get(ctx, "sector-test", 0)
		if err != nil {
			t.Fatal(err)
		}
		if want := valid.Get(KindSector, "sector-test"); string(got.Doc.JSON()) != string(want.JSON()) {
			t.Error("stored document differs from the built-in")
		}
		_, err = s.Get(ctx, "nope", 0)
		wantCode(t, err, errs.NotFound)
		_, err = s.Get(ctx, "sector-test", 7)
		wantCode(t, err, errs.NotFound)

		// Drafts need model.edit.
		_, err = s.CreateDraft(as(operator), "sector-test")
		wantCode(t, err, errs.Forbidden)
		_, err = s.CreateDraft(as(observer), "sector-test")
		wantCode(t, err, errs.Forbidden)
		_, err = s.CreateDraft(context.Background(), "sector-test")
		wantCode(t, err, errs.Unauthenticated)
		info, err := s.CreateDraft(ctx, "sector-test")
		if err != nil || info.Version != 2 || info.Status != Draft || info.CreatedBy != analyst.Email {
			t.Fatalf("CreateDraft: %+v %v", info, err)
		}
		_, err = s.CreateDraft(ctx, "sector-test")
		wantCode(t, err, errs.Conflict)
		_, err = s.CreateDraft(ctx, "nope")
		wantCode(t, err, errs.NotFound)

		// Save: invalid, then valid; published versions never change.
		draft, err := s.Get(ctx, "sector-test", 2)
		if err != nil || draft.Doc.Version != 2 {
			t.Fatalf("draft: %v %v", draft, err)
		}
		bad := draft.Doc.Clone()
		bad.EssentialServices[0].SubServices[1].Assets = append(bad.EssentialServices[0].SubServices[1].Assets, "sig-interlock")
		bad.Labels = Text{"fr": "Sans anglais"}
		_, err = s.SaveDraft(ctx, "sector-test", 2, bad)
		wantCode(t, err, errs.Invalid)
		fields := map[string]string{}
		for _, f := range errs.As(err).Fields {
			fields[f.Field] = f.Message
		}
		if m := fields["essential_services[0].sub_services[1].assets[1]"]; m != `unknown supporting asset "sig-interlock"` {
			t.Errorf("fields: %v", fields)
		}
		if _, ok := fields["labels"]; !ok || len(fields) != 2 {
			t.Errorf("fields: %v", fields)
		}
		good := draft.Doc.Clone()
		good.EssentialServices[0].SubServices = append(good.EssentialServices[0].SubServices,
			SubService{Code: "balancing", UUID: "6d1e2f30-4152-4367-8809-c4d5e6f70819", Labels: Text{"en": "Balancing"}, Assets: []string{"scada-ems"}})
		if _, err := s.SaveDraft(ctx, "sector-test", 2, good); err != nil {
			t.Fatal(err)
		}
		_, err = s.SaveDraft(as(operator), "sector-test", 2, good)
		wantCode(t, err, errs.Forbidden)
		v1 := good.Clone()
		v1.Version = 1
		_, err = s.SaveDraft(ctx, "sector-test", 1, v1)
		wantCode(t, err, errs.Conflict)
		_, err = s.SaveDraft(ctx, "sector-test", 2, v1)
		wantCode(t, err, errs.Invalid) // version mismatch

		// Publish.
		if _, err := s.Publish(ctx, "sector-test", 2); err != nil {
			t.Fatal(err)
		}
		_, err = s.Publish(ctx, "sector-test", 2)
		wantCode(t, err, errs.Conflict)
		_, err = s.SaveDraft(ctx, "sector-test", 2, good)
		wantCode(t, err, errs.Conflict)
		latest, err := s.Get(ctx, "sector-test", 0)
		if err != nil || latest.Version != 2 || latest.PublishedAt == nil {
			t.Fatalf("latest: %+v %v", latest, err)
		}
		if d := Diff(got.Doc, latest.Doc); len(d) != 2 { // version, and the sub-service added
			t.Errorf("diff v1→v2: %+v", d)
		}
		vs, err := s.Versions(ctx, "sector-test")
		if err != nil || len(vs) != 2 || vs[0].Version != 1 || vs[1].Version != 2 {
			t.Fatalf("versions: %+v %v", vs, err)
		}

		// Publishing a knowledge base that breaks a sector model is refused
		// with the sector's problems.
		if _, err := s.CreateDraft(ctx, "kb-test"); err != nil {
			t.Fatal(err)
		}
		kb, _ := s.Get(ctx, "kb-test", 2)
		kb.Doc.Assets = kb.Doc.Assets[1:] // firewall, used by the sector
		if _, err := s.SaveDraft(ctx, "kb-test", 2, kb.Doc); err != nil {
			t.Fatalf("a draft valid on its own saves: %v", err)
		}
		_, err = s.Publish(ctx, "kb-test", 2)
		wantCode(t, err, errs.Invalid)
		if f := errs.As(err).Fields; len(f) != 1 || !strings.Contains(f[0].Message, `unknown supporting asset "firewall"`) {
			t.Errorf("publish problems: %+v", f)
		}

		// Every change is audited.
		recs, err := log.List(ctx, db, audit.Filter{Scope: authz.Scope{All: true}, Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		count := map[string]int{}
		for _, r := range recs {
			count[r.Action]++
		}
		if count["model.publish"] != 4 || count["model.draft"] != 2 || count["model.save"] != 2 {
			t.Errorf("audit: %v", count)
		}
		rep, err := log.Verify(context.Background(), db)
		if err != nil || !rep.OK {
			t.Errorf("audit chain: %+v %v", rep, err)
		}
	})
}

func TestServiceImport(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := testService(t, db)
		ctx := as(analyst)
		if err := s.SyncBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		kb := validSet(t).Get(KindKnowledgeBase, "kb-test").Clone()
		kb.Code, kb.UUID, kb.Version = "kb-other", "0b3e3e1c-5b0a-4a43-9a44-6e8f0b1c2d3e", 7
		kb.Assets, kb.Threats, kb.Vulnerabilities, kb.Measures = nil, nil, nil, nil
		info, err := s.Import(ctx, kb.YAML(), ImportOptions{Name: "other.yaml"})
		if err != nil || info.Version != 1 || info.Status != Draft {
			t.Fatalf("import new: %+v %v", info, err)
		}
		info, err = s.Import(ctx, kb.JSON(), ImportOptions{Publish: true})
		if err != nil || info.Version != 2 || info.Status != Draft {
			t.Fatalf("import existing: %+v %v", info, err)
		}
		kb.Code, kb.UUID = "kb-third", "1c4f4f2d-6c1b-4b54-8b55-7f9a1c2d3e4f"
		info, err = s.Import(ctx, kb.YAML(), ImportOptions{Publish: true})
		if err != nil || info.Version != 1 || info.Status != Published {
			t.Fatalf("import published: %+v %v", info, err)
		}
		_, err = s.Import(as(operator), kb.YAML(), ImportOptions{})
		wantCode(t, err, errs.Forbidden)
		broken, _ := os.ReadFile("testdata/broken/unknown-field.yaml")
		_, err = s.Import(ctx, broken, ImportOptions{Name: "x.yaml"})
		wantCode(t, err, errs.Invalid)
		if f := errs.As(err).Fields; len(f) != 2 || f[1].Field != "assets[0].labells" || !strings.HasPrefix(f[1].Message, "x.yaml:13: ") {
			t.Errorf("fields: %+v", f)
		}
		// Same code, another kind; same UUID, another code.
		reg := validSet(t).Get(KindRegulatory, "reg-test").Clone()
		reg.Code = "kb-other"
		_, err = s.Import(ctx, reg.YAML(), ImportOptions{})
		wantCode(t, err, errs.Conflict)
		reg.Code = "reg-copy"
		_, err = s.Import(ctx, reg.YAML(), ImportOptions{})
		wantCode(t, err, errs.Conflict)
	})
}

func TestSyncBuiltinsChanged(t *testing.T) {
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s, _ := testService(t, db)
		ctx := as(analyst)
		if err := s.SyncBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		// A user's draft v2 of the knowledge base, then a release ships v2.
		if _, err := s.CreateDraft(ctx, "kb-test"); err != nil {
			t.Fatal(err)
		}
		orig := s.builtins
		shipped := func(version int, label string) func() (*Set, []Problem) {
			return func() (*Set, []Problem) {
				set, ps := orig()
				kb := set.Get(KindKnowledgeBase, "kb-test").Clone()
				kb.Version = version
				kb.Labels["en"] = label
				set.Put(kb)
				return set, ps
			}
		}
		s.builtins = shipped(2, "Release two")
		if err := s.SyncBuiltins(ctx); err != nil {
			t.Fatal(err)
		}
		vs, _ := s.Versions(ctx, "kb-test")
		if len(vs) != 3 || vs[1].Status != Published || vs[1].Title != "Release two" || vs[2].Status != Draft {
			t.Fatalf("versions: %+v", vs)
		}
		d, _ := s.Get(ctx, "kb-test", 3)
		if d.Doc.Version != 3 {
			t.Errorf("renumbered draft says version %d", d.Doc.Version)
		}
		// Content changed without a version bump.
		s.builtins = shipped(2, "Release two, edited")
		err := s.SyncBuiltins(ctx)
		wantCode(t, err, errs.Conflict)
		if !strings.Contains(err.Error(), "kb-test version 2") {
			t.Errorf("error does not name the model: %v", err)
		}
	})
}

// The real library syncs into both databases, and a second start changes
// nothing.
func TestSyncRealLibrary(t *testing.T) {
	set, ps := Builtins()
	storetest.Each(t, func(t *testing.T, db *store.DB) {
		s := New(db, audit.New([]byte(strings.Repeat("k", 32))))
		for range 2 {
			if err := s.SyncBuiltins(context.Background()); err != nil {
				t.Fatal(err)
			}
		}
		list, err := s.List(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if len(ps) == 0 && len(list) != set.Len() {
			t.Errorf("%d models stored, %d built in", len(list), set.Len())
		}
		for _, m := range list {
			v, err := s.Get(context.Background(), m.Code, 0)
			if err != nil {
				t.Fatal(err)
			}
			if want := set.Get(v.Kind, v.Code); want == nil || string(want.JSON()) != string(v.Doc.JSON()) {
				t.Errorf("%s: stored content differs from the built-in", m.Code)
			}
		}
	})
}
