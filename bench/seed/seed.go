// Package seed fills an empty nisduc store with a national-scale directory
// for load tests and benchmarks: authorities and supervision links for a
// few countries, thousands of operators with sectors, contacts and
// constituency, tens of thousands of users, and optionally a long audit
// trail. Everything goes through the real services (directory.Service's
// ...Tx methods, audit.Log.Record) with the command line as actor, in large
// transactions, so the data is validated, audited and hash-chained exactly
// as in production; users get one argon2id hash computed beforehand
// (directory.NewUser.PasswordHash) so that seeding does not spend minutes
// hashing.
//
// The data is fictitious and deterministic for a given Config: names are
// made of place and trade words, domains end in .example and .test
// (RFC 2606), IPv4 prefixes come from 10.0.0.0/8, IPv6 prefixes from
// 2001:db8::/32 (RFC 3849), AS numbers from the 32-bit private-use range
// (RFC 6996).
package seed

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/store"
)

// Config sizes the directory.
type Config struct {
	// Orgs is the total number of organisations, authorities included
	// (there are always len(Countries)*9+1 authorities; operators make up
	// the rest, at least one).
	Orgs int
	// Users is the total number of users (at least the three designated
	// users of Result).
	Users int
	// AuditExtra appends this many more audit entries (action
	// "bench.filler", spread over the organisations) after the directory,
	// to measure the trail at millions of entries.
	AuditExtra int
	// Batch is how many organisations or users go into one transaction
	// (default 1000; audit filler uses 20 times as many).
	Batch int
	// Progress, when set, is told of each finished batch.
	Progress func(format string, args ...any)
}

// User is one of the designated users a load test acts as.
type User struct {
	ID    string
	Email string
	OrgID string
}

// Phase is a timed part of the seeding.
type Phase struct {
	Name string
	N    int
	Dur  time.Duration
}

// Result says what was created and gives fixtures for the scenarios.
type Result struct {
	Orgs, Authorities, Operators, Links, Users, AuditEntries int
	// OperatorIDs are the operators' UUIDs in creation order.
	OperatorIDs []string
	// Admin is a platform administrator; Analyst an authority analyst of
	// the home country's general NCA (it serves the most operators);
	// OperatorAdmin the operator administrator of the first operator.
	Admin, Analyst, OperatorAdmin User
	// SearchName is a name substring that matches about 1 in 48
	// operators; SearchIP an address inside one operator's IPv4 prefix;
	// SearchASN that operator's AS number, as "AS…".
	SearchName, SearchIP, SearchASN string
	Phases                          []Phase
}

// HomeCountry is the country most operators are in.
const HomeCountry = "BE"

// Countries have a full set of authorities and supervision links.
var Countries = []string{"BE", "LU", "NL", "FR", "DE", "AT", "IE", "DK", "FI"}

var timeZones = map[string]string{"BE": "Europe/Brussels", "LU": "Europe/Luxembourg", "NL": "Europe/Amsterdam",
	"FR": "Europe/Paris", "DE": "Europe/Berlin", "AT": "Europe/Vienna", "IE": "Europe/Dublin",
	"DK": "Europe/Copenhagen", "FI": "Europe/Helsinki"}

var languages = map[string][]string{"BE": {"nl", "fr", "en"}, "LU": {"fr", "de", "en"}, "NL": {"nl", "en"},
	"FR": {"fr"}, "DE": {"de"}, "AT": {"de"}, "IE": {"en"}, "DK": {"en"}, "FI": {"en"}}

var legalForms = map[string][]string{"BE": {"NV", "SA", "SRL", "BV"}, "LU": {"SA", "SARL", "SCS"},
	"NL": {"BV", "NV"}, "FR": {"SA", "SAS", "SARL"}, "DE": {"GmbH", "AG", "KG"}, "AT": {"GmbH", "AG"},
	"IE": {"Ltd", "DAC", "plc"}, "DK": {"A/S", "ApS"}, "FI": {"Oy", "Oyj"}}

// ncaSectors splits the top-level sectors between five sectoral
// authorities per country; a sector not named here goes to "general".
var ncaSectors = []struct {
	key     string
	name    string
	sectors []string
}{
	{"energy", "Energy and Water Regulator", []string{"energy", "drinking-water", "waste-water"}},
	{"transport", "Transport Security Authority", []string{"transport"}},
	{"finance", "Financial Supervisory Authority", []string{"banking", "financial-market-infrastructures"}},
	{"digital", "Digital Infrastructure Regulator", []string{"digital-infrastructure", "ict-service-management",
		"digital-services", "digital-providers", "space"}},
	{"general", "Cybersecurity Centre", nil},
}

func ncaFor(sector string) string {
	for _, n := range ncaSectors {
		for _, s := range n.sectors {
			if s == sector {
				return n.key
			}
		}
	}
	return "general"
}

var places = []string{"Ardennes", "Brabant", "Campine", "Condroz", "Eifel", "Famenne", "Gaume", "Hainaut",
	"Hesbaye", "Kempen", "Limburg", "Meuse", "Moselle", "Namur", "Oesling", "Pajottenland", "Polder", "Rhine",
	"Sambre", "Scheldt", "Semois", "Senne", "Waasland", "Westhoek", "Yser", "Zennevallei", "Danube", "Elbe",
	"Fjord", "Gutland", "Haute-Sure", "Ijssel", "Jura", "Karelia", "Lapland", "Liffey", "Main", "Nordic",
	"Oder", "Pannonia", "Quercy", "Ruhr", "Saimaa", "Tyrol", "Uusimaa", "Vosges", "Wadden", "Zealand"}

// SearchWord is the place word whose substring Result.SearchName is.
const searchPlace = "Ardennes"

var tradeWords = map[string][]string{
	"energy":                           {"Power", "Energie", "Grid", "Gas Networks", "Heat"},
	"transport":                        {"Rail", "Logistics", "Airport", "Port Authority", "Shipping"},
	"banking":                          {"Bank", "Savings Bank", "Credit"},
	"financial-market-infrastructures": {"Clearing", "Exchange", "Settlement"},
	"health":                           {"Hospital", "Clinic", "Pharma", "Laboratories"},
	"drinking-water":                   {"Water", "Aqua"},
	"waste-water":                      {"Water Treatment", "Sewerage"},
	"digital-infrastructure":           {"Telecom", "Data Centres", "Cloud", "DNS", "Networks"},
	"ict-service-management":           {"Managed Services", "IT Services", "SOC"},
	"public-administration":            {"Region", "Agency", "Public Service"},
	"space":                            {"Space", "Ground Station"},
	"digital-services":                 {"Marketplace", "Search", "Cloud Services"},
	"postal":                           {"Post", "Couriers"},
	"waste-management":                 {"Recycling", "Waste"},
	"chemicals":                        {"Chemicals", "Polymers"},
	"food":                             {"Foods", "Dairy", "Mills"},
	"manufacturing":                    {"Manufacturing", "Devices", "Electronics", "Machinery", "Motors"},
	"digital-providers":                {"Online", "Social", "Market"},
	"research":                         {"Research Institute", "Labs"},
}

var firstNames = []string{"Anne", "Bart", "Chloe", "Dirk", "Elise", "Florian", "Greet", "Hugo", "Ines", "Jan",
	"Katrien", "Luc", "Marie", "Niels", "Olivia", "Pieter", "Quentin", "Ruth", "Sofie", "Thomas", "Ursula",
	"Victor", "Wout", "Xavier", "Yana", "Zoe", "Aino", "Mikko", "Sven", "Freja", "Liam", "Aoife", "Jonas", "Lena"}

var lastNames = []string{"Peeters", "Janssens", "Maes", "Jacobs", "Mertens", "Willems", "Claes", "Goossens",
	"Wouters", "Dubois", "Lambert", "Dupont", "Martin", "Schmit", "Muller", "Weber", "Wagner", "Hoffmann",
	"Bakker", "Visser", "Smit", "Meyer", "Schneider", "Gruber", "Huber", "Murphy", "Kelly", "Nielsen",
	"Hansen", "Virtanen", "Korhonen", "Leroy", "Moreau", "Fischer"}

// leaf is a place an operator can be: a sector or sub-sector and an
// entity type there ("" when the annexes list none).
type leaf struct{ sector, subsector, entity string }

func leaves() []leaf {
	var out []leaf
	for _, s := range directory.Sectors() {
		where := []directory.Sector{s}
		if len(s.Subsectors) > 0 {
			where = nil
			for _, c := range s.Subsectors {
				sub, _ := directory.SectorByCode(c)
				where = append(where, sub)
			}
		}
		for _, w := range where {
			sub := ""
			if w.Parent != "" {
				sub = w.Code
			}
			if len(w.EntityTypes) == 0 {
				out = append(out, leaf{s.Code, sub, ""})
			}
			for _, e := range w.EntityTypes {
				out = append(out, leaf{s.Code, sub, e.Code})
			}
		}
	}
	return out
}

func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		case r == ' ' || r == '-' || r == '/':
			b.WriteByte('-')
		}
	}
	return strings.Trim(b.String(), "-")
}

// operatorCountry spreads operators: 70 % in the home country, the rest
// evenly over the other countries.
func operatorCountry(i int) string {
	if i%10 < 7 {
		return HomeCountry
	}
	return Countries[1+i%(len(Countries)-1)]
}

// Operator i's constituency, as the fixtures need it.
func operatorV4(i int) string  { return fmt.Sprintf("10.%d.%d.0/24", (i>>8)&255, i&255) }
func operatorASN(i int) uint32 { return 4200000000 + uint32(i) }

type authorityOrg struct {
	in      directory.OrgInput
	country string
	nca     string // NCA key, "" for other kinds
	id      string
}

func authorities() []authorityOrg {
	var out []authorityOrg
	for _, c := range Countries {
		cc := strings.ToLower(c)
		tz := timeZones[c]
		mk := func(short, name string, kind authz.OrgKind, nca string) {
			domain := short + ".example"
			out = append(out, authorityOrg{country: c, nca: nca, in: directory.OrgInput{
				ShortName: short, Name: name + " (" + c + ", bench)", Country: c, TimeZone: tz, Kind: kind,
				Description: "Fictitious authority generated by bench/seed.",
				Contacts: []directory.Contact{
					{Role: "incident_contact", Name: "Duty officer", Email: "duty@" + domain},
					{Role: "management", Name: "Head of unit", Email: "head@" + domain},
				},
				Domains: []string{domain},
			}})
		}
		for _, n := range ncaSectors {
			mk(cc+"-nca-"+n.key, n.name, authz.NCA, n.key)
		}
		mk(cc+"-csirt", "National CSIRT", authz.CSIRT, "")
		mk(cc+"-spoc", "Single Point of Contact", authz.SPOC, "")
		mk(cc+"-dpa", "Data Protection Authority", authz.DPA, "")
		mk(cc+"-crisis", "National Crisis Centre", authz.CrisisCentre, "")
	}
	return out
}

// links returns every supervision link: per country and top-level sector
// a CSIRT, SPOC, crisis-centre and DPA link, and a sectoral-authority link
// per sub-sector (per sector when it has none).
func links(auth []authorityOrg) []directory.Link {
	byShort := map[string]string{}
	for _, a := range auth {
		byShort[a.in.ShortName] = a.id
	}
	var out []directory.Link
	for _, c := range Countries {
		cc := strings.ToLower(c)
		model := directory.ModelNIS2
		if c == "LU" {
			model = directory.ModelNISLU
		}
		for _, s := range directory.Sectors() {
			nca := byShort[cc+"-nca-"+ncaFor(s.Code)]
			subs := s.Subsectors
			if len(subs) == 0 {
				subs = []string{""}
			}
			for _, sub := range subs {
				out = append(out, directory.Link{Country: c, Sector: s.Code, Subsector: sub,
					Role: authz.SectoralAuthority, AuthorityOrgID: nca, Model: model})
			}
			for _, r := range []struct {
				role  authz.LinkRole
				short string
			}{{authz.CSIRTLink, "-csirt"}, {authz.SPOCLink, "-spoc"}, {authz.CrisisCentreLink, "-crisis"}, {authz.DPALink, "-dpa"}} {
				out = append(out, directory.Link{Country: c, Sector: s.Code, Role: r.role,
					AuthorityOrgID: byShort[cc+r.short], Model: model})
			}
		}
	}
	return out
}

// operator returns operator i's entry.
func operator(i int, rng *rand.Rand, ls []leaf) directory.OrgInput {
	c := operatorCountry(i)
	l := ls[rng.IntN(len(ls))]
	place := places[i%len(places)]
	words := tradeWords[l.sector]
	if len(words) == 0 {
		words = []string{"Services"}
	}
	forms := legalForms[c]
	name := place + " " + words[rng.IntN(len(words))] + " " + forms[rng.IntN(len(forms))]
	domain := slug(place) + "-" + strconv.Itoa(i) + ".example"
	kind := authz.OES
	if l.sector == "digital-services" || l.sector == "digital-providers" {
		kind = authz.DSP
	}
	cat := directory.Important
	if rng.IntN(10) < 4 {
		cat = directory.Essential
	}
	in := directory.OrgInput{
		ShortName: fmt.Sprintf("op-%06d", i),
		Name:      name,
		Country:   c,
		TimeZone:  timeZones[c],
		Kind:      kind,
		Category:  cat,
		SizeClass: directory.SizeClasses[1+rng.IntN(3)],
		Sectors:   []directory.OrgSector{{Sector: l.sector, Subsector: l.subsector, EntityType: l.entity}},
		Contacts: []directory.Contact{
			{Role: "security_officer", Name: "Security officer", Email: "ciso@" + domain},
			{Role: "incident_contact", Name: "Security operations centre", Email: "soc@" + domain},
		},
		Prefixes: []string{operatorV4(i), fmt.Sprintf("2001:db8:%x::/48", i&0xffff)},
		ASNs:     []string{"AS" + strconv.FormatUint(uint64(operatorASN(i)), 10)},
		Domains:  []string{domain},
	}
	if i%3 == 0 {
		in.Prefixes = append(in.Prefixes, fmt.Sprintf("10.%d.%d.128/25", 128+(i>>8)&127, i&255))
	}
	if i%5 == 0 {
		in.ASNs = append(in.ASNs, "AS"+strconv.FormatUint(uint64(4210000000+i), 10))
	}
	if i%4 == 0 {
		in.Domains = append(in.Domains, slug(place)+"-"+strconv.Itoa(i)+".test")
		in.Contacts = append(in.Contacts, directory.Contact{Role: "data_protection_officer", Name: "DPO", Email: "dpo@" + domain})
	}
	if i%10 == 1 {
		// A second sector for one operator in ten.
		l2 := ls[rng.IntN(len(ls))]
		if l2 != l {
			in.Sectors = append(in.Sectors, directory.OrgSector{Sector: l2.sector, Subsector: l2.subsector, EntityType: l2.entity})
		}
	}
	if rng.IntN(2) == 0 {
		in.Description = "Operator of " + directory.SectorLabel("en", l.sector) + " services in " + place + "."
	}
	return in
}

func (cfg Config) progress(format string, args ...any) {
	if cfg.Progress != nil {
		cfg.Progress(format, args...)
	}
}

// inBatches runs fn(tx, i) for i in [0, n) in transactions of batch items.
func inBatches(ctx context.Context, db *store.DB, n, batch int, fn func(tx *store.Tx, i int) error, done func(int)) error {
	for lo := 0; lo < n; lo += batch {
		hi := min(n, lo+batch)
		err := db.Update(ctx, func(tx *store.Tx) error {
			for i := lo; i < hi; i++ {
				if err := fn(tx, i); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return err
		}
		if done != nil {
			done(hi)
		}
	}
	return nil
}

// Run seeds db, which must hold no organisation, through dir and log.
// Password of every user: none that works — they share one argon2id hash
// of a random string, so that password checks cost what they cost in
// production while nobody can sign in with a password.
//
// Errors: Conflict when the store is not empty; whatever the services
// refuse otherwise (a bug in the generator).
func Run(ctx context.Context, db *store.DB, dir *directory.Service, log *audit.Log, cfg Config) (Result, error) {
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if authz.ActorFrom(ctx) == nil {
		ctx = authz.WithActor(ctx, authz.CLI("bench-seed"))
	}
	empty, err := db.IsEmpty(ctx)
	if err != nil {
		return Result{}, err
	}
	if !empty {
		return Result{}, errs.E(errs.Conflict, "the store already holds organisations: seed an empty one")
	}
	var res Result
	phase := func(name string, n int, start time.Time) {
		res.Phases = append(res.Phases, Phase{Name: name, N: n, Dur: time.Since(start)})
	}

	start := time.Now()
	hash, err := auth.HashPassword(fmt.Sprintf("unusable-%d-%d", time.Now().UnixNano(), rand.Uint64()))
	if err != nil {
		return Result{}, err
	}
	phase("argon2id hash (once)", 1, start)

	// Authorities and the platform's own organisation.
	start = time.Now()
	auths := authorities()
	var platformID string
	err = db.Update(ctx, func(tx *store.Tx) error {
		p, err := dir.CreateOrgTx(ctx, tx, directory.OrgInput{ShortName: "nisduc-ops", Name: "Nisduc Platform Operations (bench)",
			Country: HomeCountry, TimeZone: timeZones[HomeCountry], Kind: authz.OtherAuthority,
			Contacts: []directory.Contact{{Role: "technical", Name: "Platform team", Email: "ops@nisduc-ops.example"}}})
		if err != nil {
			return errs.Wrap(err, "platform organisation")
		}
		platformID = p.ID
		for i := range auths {
			o, err := dir.CreateOrgTx(ctx, tx, auths[i].in)
			if err != nil {
				return errs.Wrap(err, "authority %s", auths[i].in.ShortName)
			}
			auths[i].id = o.ID
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	res.Authorities = len(auths) + 1
	phase("authorities", res.Authorities, start)

	start = time.Now()
	ls := links(auths)
	err = db.Update(ctx, func(tx *store.Tx) error {
		for _, l := range ls {
			if _, err := dir.AddLinkTx(ctx, tx, l); err != nil {
				return errs.Wrap(err, "link %s %s %s %s", l.Country, l.Sector, l.Subsector, l.Role)
			}
		}
		return nil
	})
	if err != nil {
		return Result{}, err
	}
	res.Links = len(ls)
	phase("supervision links", res.Links, start)

	// Operators.
	start = time.Now()
	nOps := max(1, cfg.Orgs-res.Authorities)
	rng := rand.New(rand.NewPCG(1, 2))
	lvs := leaves()
	res.OperatorIDs = make([]string, nOps)
	opCountry := make([]string, nOps)
	opDomain := make([]string, nOps)
	err = inBatches(ctx, db, nOps, cfg.Batch, func(tx *store.Tx, i int) error {
		in := operator(i, rng, lvs)
		o, err := dir.CreateOrgTx(ctx, tx, in)
		if err != nil {
			return errs.Wrap(err, "operator %s", in.ShortName)
		}
		res.OperatorIDs[i], opCountry[i], opDomain[i] = o.ID, o.Country, o.Domains[0]
		return nil
	}, func(done int) { cfg.progress("organisations: %d/%d", done, nOps) })
	if err != nil {
		return Result{}, err
	}
	res.Operators = nOps
	res.Orgs = res.Authorities + nOps
	phase("operators", nOps, start)

	// Users: the three designated ones, then the authorities' (8 each:
	// an administrator, five analysts — two limited to one sector at
	// NCAs — and two observers), then the operators' spread evenly.
	start = time.Now()
	type plan struct {
		nu   directory.NewUser
		keep *User
	}
	var plans []plan
	userN := 0
	person := func(country, domain string) (string, string, string) {
		f, l := firstNames[userN%len(firstNames)], lastNames[(userN/len(firstNames))%len(lastNames)]
		langs := languages[country]
		userN++
		return f + " " + l, strings.ToLower(f+"."+l) + "." + strconv.Itoa(userN) + "@" + domain, langs[userN%len(langs)]
	}
	var general string
	for _, a := range auths {
		if a.country == HomeCountry && a.nca == "general" {
			general = a.id
		}
	}
	plans = append(plans,
		plan{directory.NewUser{OrgID: platformID, Email: adminEmail, Name: "Bench Admin",
			Roles: []authz.Role{authz.PlatformAdmin}}, &res.Admin},
		plan{directory.NewUser{OrgID: general, Email: analystEmail,
			Name: "Bench Analyst", Roles: []authz.Role{authz.AuthorityAnalyst}}, &res.Analyst},
		plan{directory.NewUser{OrgID: res.OperatorIDs[0], Email: "bench.operator@" + opDomain[0], Name: "Bench Operator",
			Roles: []authz.Role{authz.OperatorAdmin, authz.RiskManager}}, &res.OperatorAdmin},
	)
	for _, a := range auths {
		for k := 0; k < 8 && len(plans) < cfg.Users; k++ {
			name, email, lang := person(a.country, a.in.ShortName+".example")
			nu := directory.NewUser{OrgID: a.id, Email: email, Name: name, Language: lang}
			switch {
			case k == 0:
				nu.Roles = []authz.Role{authz.AuthorityAdmin}
			case k <= 5:
				nu.Roles = []authz.Role{authz.AuthorityAnalyst}
				if k >= 4 && a.nca != "" {
					for _, n := range ncaSectors {
						if n.key == a.nca && len(n.sectors) > 0 {
							nu.Sectors = []string{n.sectors[0]}
						}
					}
				}
			default:
				nu.Roles = []authz.Role{authz.Observer}
			}
			plans = append(plans, plan{nu: nu})
		}
	}
	if rest := cfg.Users - len(plans); rest > 0 {
		per, extra := rest/nOps, rest%nOps
		opRoles := [][]authz.Role{{authz.OperatorAdmin, authz.RiskManager}, {authz.IncidentNotifier},
			{authz.RiskManager}, {authz.ReadOnly}, {authz.IncidentNotifier}}
		for i := range nOps {
			n := per
			if i < extra {
				n++
			}
			for k := range n {
				name, email, lang := person(opCountry[i], opDomain[i])
				plans = append(plans, plan{nu: directory.NewUser{OrgID: res.OperatorIDs[i], Email: email, Name: name,
					Language: lang, Roles: opRoles[k%len(opRoles)]}})
			}
		}
	}
	err = inBatches(ctx, db, len(plans), cfg.Batch*2, func(tx *store.Tx, i int) error {
		p := plans[i]
		p.nu.PasswordHash = hash
		u, err := dir.CreateUserTx(ctx, tx, p.nu)
		if err != nil {
			return errs.Wrap(err, "user %s", p.nu.Email)
		}
		if p.keep != nil {
			*p.keep = User{ID: u.ID, Email: u.Email, OrgID: u.OrgID}
		}
		return nil
	}, func(done int) { cfg.progress("users: %d/%d", done, len(plans)) })
	if err != nil {
		return Result{}, err
	}
	res.Users = len(plans)
	phase("users", res.Users, start)

	if cfg.AuditExtra > 0 {
		start = time.Now()
		if err := AppendAudit(ctx, db, log, cfg); err != nil {
			return Result{}, err
		}
		phase("audit filler entries", cfg.AuditExtra, start)
	}
	if err := db.QueryRow(ctx, `SELECT count(*) FROM audit_log`).Scan(&res.AuditEntries); err != nil {
		return Result{}, errs.Wrap(err, "count audit entries")
	}

	res.fixtures()
	return res, nil
}

// AppendAudit appends cfg.AuditExtra entries (action "bench.filler") to
// the audit trail through log.Record, each about an organisation drawn at
// random, in transactions of 20*cfg.Batch entries: a long trail for the
// audit scenarios, also on a store seeded earlier.
func AppendAudit(ctx context.Context, db *store.DB, log *audit.Log, cfg Config) error {
	if cfg.Batch <= 0 {
		cfg.Batch = 1000
	}
	if authz.ActorFrom(ctx) == nil {
		ctx = authz.WithActor(ctx, authz.CLI("bench-seed"))
	}
	var all []string
	rows, err := db.Query(ctx, `SELECT CAST(id AS TEXT) FROM organizations ORDER BY short_name`)
	if err != nil {
		return err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return errs.Wrap(err, "organisations")
		}
		all = append(all, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return errs.Wrap(err, "organisations")
	}
	if len(all) == 0 {
		return errs.E(errs.NotFound, "no organisation to write audit entries about")
	}
	rng := rand.New(rand.NewPCG(3, uint64(time.Now().UnixNano())))
	return inBatches(ctx, db, cfg.AuditExtra, cfg.Batch*20, func(tx *store.Tx, i int) error {
		org := all[rng.IntN(len(all))]
		return log.Record(ctx, tx, audit.Entry{OrgID: org, Action: "bench.filler", ObjectType: "organization", ObjectID: org,
			Details: map[string]any{"n": i, "note": "load-test filler entry"}})
	}, func(done int) { cfg.progress("audit filler: %d/%d", done, cfg.AuditExtra) })
}

// Emails of the designated users.
const (
	adminEmail   = "bench.admin@nisduc-ops.example"
	analystEmail = "bench.analyst@be-nca-general.example"
)

// Fixtures finds the designated users, operators and search fixtures of a
// store that Run seeded earlier (a kept load-test store), so that the
// scenarios can run again without seeding. Phases is empty.
//
// Errors: NotFound when the store was not seeded by Run.
func Fixtures(ctx context.Context, db *store.DB) (Result, error) {
	var res Result
	rows, err := db.Query(ctx, `SELECT CAST(id AS TEXT) FROM organizations WHERE short_name LIKE 'op-%' ORDER BY short_name`)
	if err != nil {
		return Result{}, err
	}
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			rows.Close()
			return Result{}, errs.Wrap(err, "operators")
		}
		res.OperatorIDs = append(res.OperatorIDs, id)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return Result{}, errs.Wrap(err, "operators")
	}
	if len(res.OperatorIDs) == 0 {
		return Result{}, errs.E(errs.NotFound, "no operator op-…: this store was not seeded by bench/seed")
	}
	for _, u := range []struct {
		where string
		arg   string
		into  *User
	}{{"email = ?", adminEmail, &res.Admin}, {"email = ?", analystEmail, &res.Analyst},
		{"email LIKE ?", "bench.operator@%", &res.OperatorAdmin}} {
		err := db.QueryRow(ctx, `SELECT CAST(id AS TEXT), email, CAST(org_id AS TEXT) FROM users WHERE `+u.where, u.arg).
			Scan(&u.into.ID, &u.into.Email, &u.into.OrgID)
		if err != nil {
			return Result{}, store.NotFound(err, "designated user %s: this store was not seeded by bench/seed", u.arg)
		}
	}
	for _, c := range []struct {
		q    string
		into *int
	}{{`SELECT count(*) FROM organizations`, &res.Orgs}, {`SELECT count(*) FROM supervision_links`, &res.Links},
		{`SELECT count(*) FROM users`, &res.Users}, {`SELECT count(*) FROM audit_log`, &res.AuditEntries}} {
		if err := db.QueryRow(ctx, c.q).Scan(c.into); err != nil {
			return Result{}, errs.Wrap(err, "count")
		}
	}
	res.Operators = len(res.OperatorIDs)
	res.Authorities = res.Orgs - res.Operators
	res.fixtures()
	return res, nil
}

func (res *Result) fixtures() {
	k := min(res.Operators-1, 1234)
	res.SearchName = strings.ToLower(searchPlace[:6])
	res.SearchIP = strings.TrimSuffix(operatorV4(k), "0/24") + "77"
	res.SearchASN = "AS" + strconv.FormatUint(uint64(operatorASN(k)), 10)
}
