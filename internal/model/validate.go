package model

import (
	"fmt"
	"regexp"
	"sort"

	"github.com/nisduc/nisduc/internal/directory"
)

var uuidRE = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)

// Set is a collection of documents that reference each other by code: a
// sector model names its knowledge base and its regulatory model.
type Set struct {
	docs []*Document
}

// NewSet returns a set holding docs (nil ones are skipped).
func NewSet(docs ...*Document) *Set {
	s := &Set{}
	for _, d := range docs {
		s.Add(d)
	}
	return s
}

// Add appends d, even when another document has its kind and code (Validate
// reports the duplicate).
func (s *Set) Add(d *Document) {
	if d != nil {
		s.docs = append(s.docs, d)
	}
}

// Put adds d, replacing every document of the same kind and code.
func (s *Set) Put(d *Document) {
	if d == nil {
		return
	}
	out := s.docs[:0:0]
	for _, o := range s.docs {
		if o.Kind != d.Kind || o.Code != d.Code {
			out = append(out, o)
		}
	}
	s.docs = append(out, d)
}

// Get returns the first document of kind k with code, or nil.
func (s *Set) Get(k Kind, code string) *Document {
	if s == nil {
		return nil
	}
	for _, d := range s.docs {
		if d.Kind == k && d.Code == code {
			return d
		}
	}
	return nil
}

// Docs returns the documents, in the order they were added.
func (s *Set) Docs() []*Document {
	if s == nil {
		return nil
	}
	return append([]*Document(nil), s.docs...)
}

// Len is the number of documents.
func (s *Set) Len() int {
	if s == nil {
		return 0
	}
	return len(s.docs)
}

// SortProblems orders problems by file, line, path and message.
func SortProblems(ps []Problem) {
	sort.SliceStable(ps, func(i, j int) bool {
		a, b := ps[i], ps[j]
		if a.File != b.File {
			return a.File < b.File
		}
		if a.Line != b.Line {
			return a.Line < b.Line
		}
		if a.Path != b.Path {
			return a.Path < b.Path
		}
		return a.Message < b.Message
	})
}

// Validate checks every rule of docs/models.md that goes beyond the schema,
// on every document of the set, and returns all problems sorted by file and
// line: references resolve (knowledge base, regulatory model, assets,
// threats, vulnerabilities, types, subscales, levels), no duplicate codes in
// a list, no duplicate UUID in the set, mandatory threats exist and each has
// threat_vulnerabilities, scales are ordered 1..n, matrices are complete and
// monotonic, the acceptance threshold is a risk level, treatment options are
// known and not repeated. Schema checks are Parse's.
func Validate(set *Set) []Problem {
	var ps []Problem
	uuids := map[string]string{} // uuid → where first seen
	seenDoc := map[string]*Document{}
	for _, d := range set.Docs() {
		c := &checker{doc: d, set: set}
		key := string(d.Kind) + "\x00" + d.Code
		if first, dup := seenDoc[key]; dup && d.Code != "" {
			c.add("code", "model.err.duplicate_document", d.Kind, d.Code, where(first, "code"))
		} else {
			seenDoc[key] = d
		}
		c.run()
		for _, u := range c.uuids {
			if first, dup := uuids[u.uuid]; dup {
				c.add(u.path, "model.err.duplicate_uuid", u.uuid, first)
			} else {
				uuids[u.uuid] = where(d, u.path)
			}
		}
		ps = append(ps, c.problems...)
	}
	SortProblems(ps)
	return ps
}

// where names a place for a message: "file:line path".
func where(d *Document, path string) string {
	p := Problem{File: d.file, Line: d.Line(path), Path: path}
	s := p.String()
	return s[:len(s)-2] // drop the ": " before the (empty) message
}

type uuidAt struct{ uuid, path string }

type checker struct {
	doc      *Document
	set      *Set
	problems []Problem
	uuids    []uuidAt
}

func (c *checker) add(path, key string, args ...any) {
	c.problems = append(c.problems, problem(c.doc.file, c.doc.Line(path), path, key, args...))
}

func (c *checker) uuid(path, u string) {
	if uuidRE.MatchString(u) { // a malformed UUID is the schema's problem
		c.uuids = append(c.uuids, uuidAt{u, path})
	}
}

func (c *checker) run() {
	d := c.doc
	c.uuid("uuid", d.UUID)
	switch d.Kind {
	case KindRegulatory:
		c.regulatory()
	case KindKnowledgeBase:
		c.knowledgeBase()
	case KindSector:
		c.sector()
	}
}

// codes checks that codes are unique in a list and returns code → index.
func (c *checker) codes(list string, n int, code func(i int) string) map[string]int {
	m := make(map[string]int, n)
	for i := 0; i < n; i++ {
		k := code(i)
		if k == "" {
			continue
		}
		if first, dup := m[k]; dup {
			c.add(fmt.Sprintf("%s[%d].code", list, i), "model.err.duplicate_code", k, fmt.Sprintf("%s[%d]", list, first))
			continue
		}
		m[k] = i
	}
	return m
}

// refs checks a list of references: each resolves (known reports it) and
// none is repeated.
func (c *checker) refs(list string, xs []string, known func(string) bool, key string) {
	seen := map[string]int{}
	for i, x := range xs {
		p := fmt.Sprintf("%s[%d]", list, i)
		if first, dup := seen[x]; dup {
			c.add(p, "model.err.duplicate_ref", x, fmt.Sprintf("%s[%d]", list, first))
			continue
		}
		seen[x] = i
		if !known(x) {
			c.add(p, key, x)
		}
	}
}

// scale checks that levels are numbered 1..n in order and that codes are
// unique; it returns code → level.
func (c *checker) scale(path string, levels []Level) map[string]int {
	for i, l := range levels {
		if l.Level != i+1 {
			c.add(fmt.Sprintf("%s[%d].level", path, i), "model.err.level_order", l.Level, i+1)
		}
	}
	byCode := c.codes(path, len(levels), func(i int) string { return levels[i].Code })
	out := make(map[string]int, len(byCode))
	for code, i := range byCode {
		out[code] = i + 1
	}
	return out
}

// matrix checks a matrix of rows × cols cells naming levels of out, and its
// monotonicity.
func (c *checker) matrix(path string, m *Matrix, rows, cols int, out map[string]int) {
	cp := path + ".cells"
	if len(m.Cells) != rows {
		c.add(cp, "model.err.matrix_rows", len(m.Cells), rows)
	}
	grid := make([][]int, len(m.Cells))
	complete := len(m.Cells) == rows
	for i, row := range m.Cells {
		rp := fmt.Sprintf("%s[%d]", cp, i)
		if len(row) != cols {
			c.add(rp, "model.err.matrix_columns", len(row), cols)
			complete = false
		}
		grid[i] = make([]int, len(row))
		for j, cell := range row {
			v, ok := out[cell]
			if !ok {
				c.add(fmt.Sprintf("%s[%d]", rp, j), "model.err.unknown_level", cell)
				complete = false
			}
			grid[i][j] = v
		}
	}
	if !complete {
		return
	}
	for _, v := range Violations(grid) {
		c.add(fmt.Sprintf("%s[%d][%d]", cp, v.I, v.J), "model.err.matrix_monotonic",
			m.Cells[v.I][v.J], m.Cells[v.I2][v.J2], fmt.Sprintf("[%d][%d]", v.I2, v.J2))
	}
}

func (c *checker) regulatory() {
	d := c.doc
	c.codes("submission", len(d.Submission), func(i int) string { return d.Submission[i].Code })
	if d.Notification != nil {
		st := d.Notification.Stages
		c.codes("notification.stages", len(st), func(i int) string { return st[i].Code })
	}
	c.codes("significance", len(d.Significance), func(i int) string { return d.Significance[i].Code })
	r := d.Risk
	if r == nil {
		return
	}
	likelihood := c.scale("risk.likelihood", r.Likelihood)
	_ = likelihood
	risk := c.scale("risk.levels", r.Levels)
	impactLevels := 0
	if im := r.Impact; im != nil {
		subs := c.codes("risk.impact.subscales", len(im.Subscales), func(i int) string { return im.Subscales[i].Code })
		for i, s := range im.Subscales {
			c.scale(fmt.Sprintf("risk.impact.subscales[%d].levels", i), s.Levels)
		}
		impact := c.scale("risk.impact.levels", im.Levels)
		impactLevels = len(im.Levels)
		if im.Matrix != nil {
			c.impactMatrix("risk.impact.matrix", im.Matrix, subs, im.Subscales, impact)
		}
	}
	if r.Matrix != nil && r.Impact != nil {
		c.matrix("risk.matrix", r.Matrix, len(r.Likelihood), impactLevels, risk)
	}
	if r.AcceptanceThreshold != "" {
		if _, ok := risk[r.AcceptanceThreshold]; !ok {
			c.add("risk.acceptance_threshold", "model.err.unknown_level", r.AcceptanceThreshold)
		}
	}
	c.refs("risk.treatment_options", r.TreatmentOptions, func(string) bool { return true }, "")
}

// impactMatrix checks an impact matrix whose rows and columns name subscales.
func (c *checker) impactMatrix(path string, m *Matrix, subs map[string]int, scales []Subscale, levels map[string]int) {
	ri, rok := subs[m.Rows]
	ci, cok := subs[m.Columns]
	if !rok {
		c.add(path+".rows", "model.err.unknown_subscale", m.Rows)
	}
	if !cok {
		c.add(path+".columns", "model.err.unknown_subscale", m.Columns)
	}
	if rok && cok && m.Rows == m.Columns {
		c.add(path+".columns", "model.err.matrix_same_axes", m.Rows)
		return
	}
	if rok && cok {
		c.matrix(path, m, len(scales[ri].Levels), len(scales[ci].Levels), levels)
	}
}

func (c *checker) knowledgeBase() {
	d := c.doc
	at := c.codes("asset_types", len(d.AssetTypes), func(i int) string { return d.AssetTypes[i].Code })
	tt := c.codes("threat_types", len(d.ThreatTypes), func(i int) string { return d.ThreatTypes[i].Code })
	c.codes("assets", len(d.Assets), func(i int) string { return d.Assets[i].Code })
	threats := c.codes("threats", len(d.Threats), func(i int) string { return d.Threats[i].Code })
	c.codes("vulnerabilities", len(d.Vulnerabilities), func(i int) string { return d.Vulnerabilities[i].Code })
	c.codes("measures", len(d.Measures), func(i int) string { return d.Measures[i].Code })
	for i, a := range d.Assets {
		c.uuid(fmt.Sprintf("assets[%d].uuid", i), a.UUID)
		if _, ok := at[a.Type]; !ok && a.Type != "" {
			c.add(fmt.Sprintf("assets[%d].type", i), "model.err.unknown_asset_type", a.Type)
		}
	}
	for i, t := range d.Threats {
		c.uuid(fmt.Sprintf("threats[%d].uuid", i), t.UUID)
		if _, ok := tt[t.Type]; !ok && t.Type != "" {
			c.add(fmt.Sprintf("threats[%d].type", i), "model.err.unknown_threat_type", t.Type)
		}
		c.refs(fmt.Sprintf("threats[%d].criteria", i), t.Criteria, func(string) bool { return true }, "")
	}
	hasType := func(x string) bool { _, ok := at[x]; return ok }
	hasThreat := func(x string) bool { _, ok := threats[x]; return ok }
	for i, v := range d.Vulnerabilities {
		p := fmt.Sprintf("vulnerabilities[%d]", i)
		c.uuid(p+".uuid", v.UUID)
		c.refs(p+".asset_types", v.AssetTypes, hasType, "model.err.unknown_asset_type")
		c.refs(p+".threats", v.Threats, hasThreat, "model.err.unknown_threat")
	}
	for i, m := range d.Measures {
		c.uuid(fmt.Sprintf("measures[%d].uuid", i), m.UUID)
	}
}

func (c *checker) sector() {
	d := c.doc
	// The sector and entity types are the directory's vocabulary, so that an
	// operator's sectors select its models.
	if sec, ok := directory.SectorByCode(d.Sector); !ok {
		c.add("sector", "model.err.unknown_sector", d.Sector)
	} else {
		for i, et := range d.EntityTypes {
			if !sec.HasEntityType(et) && !subsectorHas(sec, et) {
				c.add(fmt.Sprintf("entity_types[%d]", i), "model.err.unknown_entity_type", et, d.Sector)
			}
		}
	}
	kb := c.set.Get(KindKnowledgeBase, d.KnowledgeBase)
	if kb == nil && d.KnowledgeBase != "" {
		c.add("knowledge_base", "model.err.unknown_kb", d.KnowledgeBase)
	}
	reg := c.set.Get(KindRegulatory, d.RegulatoryModel)
	if reg == nil && d.RegulatoryModel != "" {
		c.add("regulatory_model", "model.err.unknown_regulatory", d.RegulatoryModel)
	}
	// Without its knowledge base, references cannot be judged: report the
	// knowledge base alone rather than every reference into it.
	kbOK := kb != nil
	if kb == nil {
		kb = &Document{}
	}
	assets := c.codes("assets", len(d.Assets), func(i int) string { return d.Assets[i].Code })
	vulns := c.codes("vulnerabilities", len(d.Vulnerabilities), func(i int) string { return d.Vulnerabilities[i].Code })
	kbIndex := func(n int, code func(int) string) map[string]bool {
		m := make(map[string]bool, n)
		for i := 0; i < n; i++ {
			m[code(i)] = true
		}
		return m
	}
	kbAssets := kbIndex(len(kb.Assets), func(i int) string { return kb.Assets[i].Code })
	kbThreats := kbIndex(len(kb.Threats), func(i int) string { return kb.Threats[i].Code })
	kbVulns := kbIndex(len(kb.Vulnerabilities), func(i int) string { return kb.Vulnerabilities[i].Code })
	kbTypes := kbIndex(len(kb.AssetTypes), func(i int) string { return kb.AssetTypes[i].Code })
	hasAsset := func(x string) bool { _, ok := assets[x]; return ok || kbAssets[x] || !kbOK }
	hasThreat := func(x string) bool { return kbThreats[x] || !kbOK }
	hasVuln := func(x string) bool { _, ok := vulns[x]; return ok || kbVulns[x] || !kbOK }
	hasType := func(x string) bool { return kbTypes[x] || !kbOK }

	for i, a := range d.Assets {
		c.uuid(fmt.Sprintf("assets[%d].uuid", i), a.UUID)
		if a.Type != "" && !hasType(a.Type) {
			c.add(fmt.Sprintf("assets[%d].type", i), "model.err.unknown_asset_type", a.Type)
		}
	}
	for i, v := range d.Vulnerabilities {
		p := fmt.Sprintf("vulnerabilities[%d]", i)
		c.uuid(p+".uuid", v.UUID)
		c.refs(p+".asset_types", v.AssetTypes, hasType, "model.err.unknown_asset_type")
		c.refs(p+".threats", v.Threats, hasThreat, "model.err.unknown_threat")
	}

	// Mandatory threats: the sector's and its sub-services'.
	mandatory := map[string]string{} // code → first path
	c.refs("mandatory_threats", d.MandatoryThreats, hasThreat, "model.err.unknown_threat")
	for i, t := range d.MandatoryThreats {
		if _, ok := mandatory[t]; !ok {
			mandatory[t] = fmt.Sprintf("mandatory_threats[%d]", i)
		}
	}
	c.codes("essential_services", len(d.EssentialServices), func(i int) string { return d.EssentialServices[i].Code })
	for i, es := range d.EssentialServices {
		p := fmt.Sprintf("essential_services[%d]", i)
		c.uuid(p+".uuid", es.UUID)
		c.codes(p+".sub_services", len(es.SubServices), func(j int) string { return es.SubServices[j].Code })
		for j, ss := range es.SubServices {
			sp := fmt.Sprintf("%s.sub_services[%d]", p, j)
			c.uuid(sp+".uuid", ss.UUID)
			c.refs(sp+".assets", ss.Assets, hasAsset, "model.err.unknown_asset")
			c.refs(sp+".mandatory_threats", ss.MandatoryThreats, hasThreat, "model.err.unknown_threat")
			for k, t := range ss.MandatoryThreats {
				if _, ok := mandatory[t]; !ok {
					mandatory[t] = fmt.Sprintf("%s.mandatory_threats[%d]", sp, k)
				}
			}
		}
	}
	tv := map[string]bool{}
	for i, e := range d.ThreatVulnerabilities {
		p := fmt.Sprintf("threat_vulnerabilities[%d]", i)
		if tv[e.Threat] {
			c.add(p+".threat", "model.err.duplicate_ref", e.Threat, "threat_vulnerabilities")
		}
		tv[e.Threat] = true
		if e.Threat != "" && !hasThreat(e.Threat) {
			c.add(p+".threat", "model.err.unknown_threat", e.Threat)
		}
		c.refs(p+".vulnerabilities", e.Vulnerabilities, hasVuln, "model.err.unknown_vulnerability")
	}
	for t, p := range mandatory {
		if !tv[t] && hasThreat(t) {
			c.add(p, "model.err.no_threat_vulnerabilities", t)
		}
	}

	if d.Impact != nil {
		c.sectorImpact(reg)
	}
}

// sectorImpact checks the sector's wording of the regulatory impact scales.
func (c *checker) sectorImpact(reg *Document) {
	im := c.doc.Impact
	subs := c.codes("impact.subscales", len(im.Subscales), func(i int) string { return im.Subscales[i].Code })
	for i, s := range im.Subscales {
		c.scale(fmt.Sprintf("impact.subscales[%d].levels", i), s.Levels)
	}
	if reg == nil || reg.Risk == nil || reg.Risk.Impact == nil {
		return // the regulatory model is reported missing (or has its own problems)
	}
	ri := reg.Risk.Impact
	regSubs := map[string]int{}
	for i, s := range ri.Subscales {
		regSubs[s.Code] = i
	}
	for i, s := range im.Subscales {
		k, ok := regSubs[s.Code]
		if !ok {
			c.add(fmt.Sprintf("impact.subscales[%d].code", i), "model.err.unknown_subscale", s.Code)
			continue
		}
		if want := len(ri.Subscales[k].Levels); len(s.Levels) != want {
			c.add(fmt.Sprintf("impact.subscales[%d].levels", i), "model.err.sector_levels", len(s.Levels), s.Code, want)
		}
	}
	_ = subs
	if im.Matrix != nil {
		levels := map[string]int{}
		for i, l := range ri.Levels {
			levels[l.Code] = i + 1
		}
		c.impactMatrix("impact.matrix", im.Matrix, regSubs, ri.Subscales, levels)
	}
}

// subsectorHas reports whether one of sec's sub-sectors lists the entity
// type (a model for a whole sector may name its sub-sectors' types).
func subsectorHas(sec directory.Sector, et string) bool {
	for _, code := range sec.Subsectors {
		if sub, ok := directory.SectorByCode(code); ok && sub.HasEntityType(et) {
			return true
		}
	}
	return false
}
