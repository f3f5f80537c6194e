package authz

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

const (
	opA  = "00000000-0000-4000-8000-0000000000a1" // operator, energy, served by nca (sectoral) and csirt
	opB  = "00000000-0000-4000-8000-0000000000b2" // operator, rail, served by nca (sectoral) and csirt
	opC  = "00000000-0000-4000-8000-0000000000c3" // operator in another country, served by nobody here
	nca  = "00000000-0000-4000-8000-00000000000a"
	cert = "00000000-0000-4000-8000-00000000000c"
	plat = "00000000-0000-4000-8000-00000000000f"
)

var targets = map[string]Target{
	"opA":  {OrgID: opA, OrgKind: OES, Links: []Link{{nca, SectoralAuthority, "energy"}, {nca, SPOCLink, "energy"}, {cert, CSIRTLink, "energy"}}},
	"opB":  {OrgID: opB, OrgKind: OES, Links: []Link{{nca, SectoralAuthority, "transport"}, {cert, CSIRTLink, "transport"}}},
	"opC":  {OrgID: opC, OrgKind: DSP},
	"nca":  {OrgID: nca, OrgKind: NCA},
	"cert": {OrgID: cert, OrgKind: CSIRT},
	"plat": {OrgID: plat, OrgKind: OtherAuthority},
}

var actors = map[string]*Actor{
	"admin":          {UserID: "u1", OrgID: plat, OrgKind: OtherAuthority, Roles: []Role{PlatformAdmin}},
	"nca-admin":      {UserID: "u2", OrgID: nca, OrgKind: NCA, Roles: []Role{AuthorityAdmin}},
	"nca-analyst":    {UserID: "u3", OrgID: nca, OrgKind: NCA, Roles: []Role{AuthorityAnalyst}},
	"nca-energy":     {UserID: "u4", OrgID: nca, OrgKind: NCA, Roles: []Role{AuthorityAnalyst}, Sectors: []string{"energy"}},
	"csirt-observer": {UserID: "u5", OrgID: cert, OrgKind: CSIRT, Roles: []Role{Observer}},
	"opA-admin":      {UserID: "u6", OrgID: opA, OrgKind: OES, Roles: []Role{OperatorAdmin}},
	"opA-risk":       {UserID: "u7", OrgID: opA, OrgKind: OES, Roles: []Role{RiskManager}},
	"opA-notifier":   {UserID: "u8", OrgID: opA, OrgKind: OES, Roles: []Role{IncidentNotifier}},
	"opA-readonly":   {UserID: "u9", OrgID: opA, OrgKind: OES, Roles: []Role{ReadOnly}},
}

// The whole policy as a table: for each actor and action, the targets
// allowed. Every (actor, action, target) not listed must be refused.
var allowedTable = map[string]map[Action][]string{
	"admin": {
		OrgView: {"opA", "opB", "opC", "nca", "cert", "plat"}, OrgCreate: all(), OrgEdit: all(), OrgAdmin: all(),
		UserView: all(), UserManage: all(), AuditView: all(), SettingsAdmin: all(),
	},
	"nca-admin": {
		OrgView: {"opA", "opB", "nca", "cert", "plat"}, OrgEdit: {"nca"}, UserView: {"nca"}, UserManage: {"nca"},
		AuditView: {"opA", "opB", "nca"}, RiskView: {"opA", "opB"}, IncidentView: {"opA", "opB"}, ModelEdit: {"nca"},
	},
	"nca-analyst": {
		OrgView: {"opA", "opB", "nca", "cert", "plat"}, AuditView: {"opA", "opB", "nca"}, RiskView: {"opA", "opB"},
		RiskReview: {"opA", "opB"}, IncidentView: {"opA", "opB"}, IncidentHandle: {"opA", "opB"}, ModelEdit: {"nca"},
	},
	"nca-energy": {
		OrgView: {"opA", "nca", "cert", "plat"}, AuditView: {"opA", "nca"}, RiskView: {"opA"}, RiskReview: {"opA"},
		IncidentView: {"opA"}, IncidentHandle: {"opA"}, ModelEdit: {"nca"},
	},
	"csirt-observer": {
		OrgView: {"opA", "opB", "nca", "cert", "plat"}, IncidentView: {"opA", "opB"},
	},
	"opA-admin": {
		OrgView: {"opA", "nca", "cert", "plat"}, OrgEdit: {"opA"}, UserView: {"opA"}, UserManage: {"opA"},
		RiskView: {"opA"}, IncidentView: {"opA"},
	},
	"opA-risk": {
		OrgView: {"opA", "nca", "cert", "plat"}, RiskView: {"opA"}, RiskEdit: {"opA"}, IncidentView: {"opA"},
	},
	"opA-notifier": {
		OrgView: {"opA", "nca", "cert", "plat"}, IncidentView: {"opA"}, IncidentNotify: {"opA"},
	},
	"opA-readonly": {
		OrgView: {"opA", "nca", "cert", "plat"}, RiskView: {"opA"}, IncidentView: {"opA"},
	},
}

func all() []string { return []string{"opA", "opB", "opC", "nca", "cert", "plat"} }

func TestPolicyMatrix(t *testing.T) {
	names := make([]string, 0, len(targets))
	for n := range targets {
		names = append(names, n)
	}
	slices.Sort(names)
	for an, a := range actors {
		for _, act := range Actions {
			want := allowedTable[an][act]
			for _, tn := range names {
				allowed := slices.Contains(want, tn)
				err := Check(a, act, targets[tn])
				if allowed && err != nil {
					t.Errorf("%s %s %s: refused (%v), want allowed", an, act, tn, err)
				}
				if !allowed && err == nil {
					t.Errorf("%s %s %s: allowed, want refused", an, act, tn)
				}
			}
		}
	}
}

func TestAnonymousAndSystem(t *testing.T) {
	for _, act := range Actions {
		if err := Check(nil, act, targets["opA"]); err == nil || !strings.Contains(err.Error(), "sign in") {
			t.Errorf("anonymous %s: %v, want unauthenticated", act, err)
		}
		if err := Check(CLI("root"), act, targets["opA"]); err != nil {
			t.Errorf("cli %s: %v", act, err)
		}
	}
}

// ScopeOf must agree with Check on every target, or lists would show what
// a detail page refuses (or hide what it allows).
func TestScopeAgreesWithCheck(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	orgs := []string{opA, opB, opC, nca, cert, plat}
	kinds := OrgKinds
	sectors := []string{"energy", "transport", "health"}
	var random []Target
	for i := 0; i < 400; i++ {
		tg := Target{OrgID: orgs[r.IntN(len(orgs))], OrgKind: kinds[r.IntN(len(kinds))]}
		for j := r.IntN(4); j > 0; j-- {
			tg.Links = append(tg.Links, Link{AuthorityOrgID: orgs[r.IntN(len(orgs))], Role: LinkRoles[r.IntN(len(LinkRoles))], Sector: sectors[r.IntN(len(sectors))]})
		}
		random = append(random, tg)
	}
	for an, a := range actors {
		for _, act := range Actions {
			s := ScopeOf(a, act)
			for _, tg := range append(random, values(targets)...) {
				if got, want := s.Includes(tg), Check(a, act, tg) == nil; got != want {
					t.Fatalf("%s %s %+v: scope includes=%v, check allows=%v", an, act, tg, got, want)
				}
			}
		}
	}
}

func values(m map[string]Target) []Target {
	var out []Target
	for _, v := range m {
		out = append(out, v)
	}
	return out
}

func ExampleCheck() {
	op := &Actor{OrgID: opA, OrgKind: OES, Roles: []Role{RiskManager}}
	fmt.Println(Check(op, RiskView, targets["opA"]) == nil, Check(op, RiskView, targets["opB"]) == nil)
	// Output: true false
}
