package web

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path"
	"sort"
	"strconv"
	"strings"

	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/model"
)

// The model browser (everyone signed in), the model editor (authz.ModelEdit)
// and their helpers. The API is in models_api.go.

func (s *Server) registerModels() {
	s.handle("GET", "/models", Signed, s.modelList)
	s.handle("GET", "/models/import", Signed, s.modelImportForm)
	s.handle("POST", "/models/import", Signed, s.modelImport)
	s.handle("GET", "/models/{code}", Signed, s.modelView)
	s.handle("GET", "/models/{code}/download", Signed, s.modelDownload)
	s.handle("GET", "/models/{code}/diff", Signed, s.modelDiffPage)
	s.handle("POST", "/models/{code}/drafts", Signed, s.modelCreateDraft)
	s.handle("GET", "/models/{code}/versions/{version}/edit", Signed, s.modelEditForm)
	s.handle("POST", "/models/{code}/versions/{version}", Signed, s.modelEditSubmit)
	s.handle("GET", "/models/{code}/versions/{version}/publish", Signed, s.modelPublishForm)
	s.handle("POST", "/models/{code}/versions/{version}/publish", Signed, s.modelPublish)
	s.registerModelsAPI()
}

// canEditModels tells whether the actor may edit models (the service
// checks again; this only decides what to show and refuses early).
func canEditModels(ctx context.Context) bool {
	a := authz.ActorFrom(ctx)
	return a != nil && authz.Can(a, authz.ModelEdit, authz.Target{OrgID: a.OrgID, OrgKind: a.OrgKind})
}

func checkModelEdit(ctx context.Context) error {
	a := authz.ActorFrom(ctx)
	t := authz.Target{}
	if a != nil {
		t = authz.Target{OrgID: a.OrgID, OrgKind: a.OrgKind}
	}
	return authz.Check(a, authz.ModelEdit, t)
}

// getModel loads a version (0 = latest published); a draft is shown only
// to those who may edit models.
func (s *Server) getModel(ctx context.Context, code string, version int) (*model.Version, error) {
	v, err := s.deps.Models.Get(ctx, code, version)
	if err != nil {
		return nil, err
	}
	if v.Status != model.Published {
		if err := checkModelEdit(ctx); err != nil {
			return nil, err
		}
	}
	if !canEditModels(ctx) {
		v.CreatedBy = "" // editors' e-mail addresses are for editors
	}
	return v, nil
}

// versionParam reads a version number from the path or a query value.
func versionParam(field, v string) (int, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return 0, errs.FieldKey(field, "mui.err.version")
	}
	return n, nil
}

// tr picks the text of lang from a language map, English as fallback.
func tr(t model.Text, lang string) string {
	if v := t[lang]; v != "" {
		return v
	}
	return t["en"]
}

// labelOr is the label in lang, or the code when there is none.
func labelOr(t model.Text, lang, code string) string {
	if v := tr(t, lang); v != "" {
		return v
	}
	return code
}

// modelProblem is one problem of a document, for a page.
type modelProblem struct {
	Line    int
	Path    string
	Message string
}

func problemsFor(ps []model.Problem, lang string) []modelProblem {
	out := make([]modelProblem, 0, len(ps))
	for _, p := range ps {
		msg := p.Message
		if p.Key != "" {
			msg = i18n.T(lang, p.Key, p.Args...)
		}
		out = append(out, modelProblem{Line: p.Line, Path: p.Path, Message: msg})
	}
	return out
}

// fieldProblems turns a service error's fields into problems, located in
// doc where it can.
func fieldProblems(err error, doc *model.Document, lang string) []modelProblem {
	e := errs.As(err)
	var out []modelProblem
	for _, f := range e.Fields {
		line := 0
		if doc != nil {
			line = doc.Line(f.Field)
		}
		out = append(out, modelProblem{Line: line, Path: f.Field, Message: f.Localized(lang)})
	}
	if len(out) == 0 {
		msg := e.Message
		if e.Key != "" {
			msg = i18n.T(lang, e.Key, e.Args...)
		}
		out = append(out, modelProblem{Message: msg})
	}
	return out
}

// checkModel validates a document as saving it would (model.Service.Check).
func (s *Server) checkModel(ctx context.Context, name string, data []byte) (*model.Document, []model.Problem, error) {
	return s.deps.Models.Check(ctx, name, data)
}

// ---- list ----

type modelGroup struct {
	Kind   model.Kind
	Title  string
	Models []modelRow
}

type modelRow struct {
	model.Summary
	Label  string
	Sector string
}

type modelListData struct {
	Groups  []modelGroup
	CanEdit bool
}

func (s *Server) modelList(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	lang := langOf(r)
	list, err := s.deps.Models.List(ctx)
	if err != nil {
		return err
	}
	// Labels in the viewer's language and the sectors come from the
	// documents; one set read gives every published one.
	set, err := s.deps.Models.Set(ctx)
	if err != nil {
		return err
	}
	d := modelListData{CanEdit: canEditModels(ctx)}
	for _, k := range model.Kinds {
		g := modelGroup{Kind: k, Title: i18n.T(lang, "mui.kinds."+string(k))}
		for _, sm := range list {
			if sm.Kind != k {
				continue
			}
			row := modelRow{Summary: sm, Label: sm.Title}
			if doc := set.Get(k, sm.Code); doc != nil {
				row.Label = labelOr(doc.Labels, lang, sm.Title)
				if doc.Sector != "" {
					row.Sector = sectorLabel(lang, doc.Sector)
				}
			}
			g.Models = append(g.Models, row)
		}
		d.Groups = append(d.Groups, g)
	}
	s.render(w, r, "models", s.newPage(r, "mui.list.title", d))
	return nil
}

// sectorLabel names a directory sector code ("energy/electricity").
func sectorLabel(lang, code string) string {
	if parent, _, ok := strings.Cut(code, "/"); ok {
		return directory.SectorLabel(lang, parent) + " › " + directory.SectorLabel(lang, code)
	}
	return directory.SectorLabel(lang, code)
}

// ---- one model ----

type levelView struct {
	Level      int
	Code       string
	Label      string
	Definition string
	Class      string
}

type scaleView struct {
	Code   string
	Title  string
	Desc   string
	Levels []levelView
}

type gridCell struct {
	Label string
	Class string
}

type gridRow struct {
	Head  string
	Cells []gridCell
}

// gridView is a combination matrix as a coloured table.
type gridView struct {
	Caption  string
	RowTitle string
	ColTitle string
	Cols     []string
	Rows     []gridRow
}

type stageView struct {
	Code, Label, Deadline, Trigger, Obligation, Desc string
	Recipients, EntityTypes                          []string
}

type itemView struct {
	Code, Label, Desc string
	Required          bool
	Extra             []string
}

type regView struct {
	Regulation   string
	Method       string
	MethodDesc   string
	Likelihood   scaleView
	Subscales    []scaleView
	ImpactLevels []levelView
	ImpactGrid   *gridView
	RiskLevels   []levelView
	RiskGrid     *gridView
	Threshold    string
	Treatment    []string
	Submission   []itemView
	Stages       []stageView
	Significance []itemView
}

type assetView struct {
	Code, UUID, Label, Desc, Type string
	Sector                        bool
	UsedBy                        []string
}

type threatView struct {
	Code, UUID, MonarcUUID, Label, Desc, Type string
	Criteria                                  []string
	Vulns                                     []itemView
}

type typeGroup struct {
	Code, Label string
	Assets      []assetView
	Threats     []threatView
}

type kbView struct {
	AssetTypes  []typeGroup
	ThreatTypes []typeGroup
	Vulns       []itemView
	Measures    []itemView
}

type subServiceView struct {
	Code, UUID, Label, Desc string
	Assets                  []assetView
	Threats                 []threatView
}

type serviceView struct {
	Code, UUID, Label, Desc string
	Subs                    []subServiceView
}

type sectorView struct {
	Sector       string
	Regulatory   string
	KB           string
	Services     []serviceView
	Assets       []assetView
	Threats      []threatView
	Subscales    []scaleView
	ImpactGrid   *gridView
	GridFromReg  bool
	ImpactLevels []levelView
}

type modelViewData struct {
	Version  *model.Version
	Label    string
	Desc     string
	Versions []model.Info
	Latest   int // latest published version
	Draft    int // newest draft, 0 if none
	CanEdit  bool
	Reg      *regView
	KB       *kbView
	Sector   *sectorView
}

func (s *Server) modelView(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	code := r.PathValue("code")
	ver, err := versionParam("v", r.URL.Query().Get("v"))
	if err != nil {
		return err
	}
	infos, err := s.deps.Models.Versions(ctx, code)
	if err != nil {
		return err
	}
	d := modelViewData{Versions: infos, CanEdit: canEditModels(ctx)}
	for _, in := range infos {
		if in.Status == model.Published {
			d.Latest = in.Version
		} else {
			d.Draft = in.Version
		}
	}
	if ver == 0 && d.Latest == 0 && d.CanEdit {
		ver = d.Draft // nothing published yet: editors see the draft
	}
	v, err := s.getModel(ctx, code, ver)
	if err != nil {
		return err
	}
	lang := langOf(r)
	d.Version = v
	d.Label = labelOr(v.Doc.Labels, lang, v.Code)
	d.Desc = tr(v.Doc.Descriptions, lang)
	switch v.Doc.Kind {
	case model.KindRegulatory:
		d.Reg = regulatoryView(v.Doc, lang)
	case model.KindKnowledgeBase:
		d.KB = knowledgeView(v.Doc, lang)
	case model.KindSector:
		var reg, kb *model.Document
		if x, err := s.deps.Models.Get(ctx, v.Doc.RegulatoryModel, 0); err == nil {
			reg = x.Doc
		} else if !errs.Is(err, errs.NotFound) {
			return err
		}
		if x, err := s.deps.Models.Get(ctx, v.Doc.KnowledgeBase, 0); err == nil {
			kb = x.Doc
		} else if !errs.Is(err, errs.NotFound) {
			return err
		}
		d.Sector = sectorModelView(v.Doc, reg, kb, lang)
	}
	p := s.newPage(r, "mui.view.title", d)
	s.render(w, r, "model", p)
	return nil
}

// levelClass colours level i (0-based) of n on the four-step scale of the
// stylesheet (lvl-1 low … lvl-4 very high).
func levelClass(i, n int) string {
	if n <= 1 {
		return "lvl-1"
	}
	return fmt.Sprintf("lvl-%d", 1+(i*3+(n-1)/2)/(n-1))
}

func levels(ls []model.Level, lang string, coloured bool) []levelView {
	out := make([]levelView, 0, len(ls))
	for i, l := range ls {
		lv := levelView{Level: l.Level, Code: l.Code, Label: tr(l.Labels, lang), Definition: tr(l.Definitions, lang)}
		if lv.Definition == "" {
			lv.Definition = tr(l.Descriptions, lang)
		}
		if coloured {
			lv.Class = levelClass(i, len(ls))
		}
		out = append(out, lv)
	}
	return out
}

func scale(sc model.Subscale, lang string) scaleView {
	return scaleView{Code: sc.Code, Title: labelOr(sc.Labels, lang, sc.Code), Desc: tr(sc.Descriptions, lang), Levels: levels(sc.Levels, lang, false)}
}

// grid builds a coloured matrix: cells are codes of out (the result levels).
func grid(caption, rowTitle, colTitle string, rows, cols []string, cells [][]string, out []model.Level, lang string) *gridView {
	g := &gridView{Caption: caption, RowTitle: rowTitle, ColTitle: colTitle, Cols: cols}
	if rowTitle != "" || colTitle != "" {
		g.Caption = i18n.T(lang, "mui.grid.caption", caption, rowTitle, colTitle)
	}
	idx := map[string]int{}
	for i, l := range out {
		idx[l.Code] = i
	}
	for i, row := range cells {
		gr := gridRow{}
		if i < len(rows) {
			gr.Head = rows[i]
		} else {
			gr.Head = strconv.Itoa(i + 1)
		}
		for _, c := range row {
			cell := gridCell{Label: c}
			if j, ok := idx[c]; ok {
				cell.Label = labelOr(out[j].Labels, lang, c)
				cell.Class = levelClass(j, len(out))
			}
			gr.Cells = append(gr.Cells, cell)
		}
		g.Rows = append(g.Rows, gr)
	}
	return g
}

// heads are the headers of a matrix axis: "n — definition" of each level.
func heads(ls []model.Level, lang string) []string {
	out := make([]string, 0, len(ls))
	for _, l := range ls {
		h := strconv.Itoa(l.Level)
		if t := tr(l.Labels, lang); t != "" {
			h += " — " + t
		} else if t := tr(l.Definitions, lang); t != "" {
			h += " — " + t
		}
		out = append(out, h)
	}
	return out
}

func findSubscale(scs []model.Subscale, code string) *model.Subscale {
	for i := range scs {
		if scs[i].Code == code {
			return &scs[i]
		}
	}
	return nil
}

// impactGrid draws an impact matrix whose rows and columns name subscales
// of scs (the sector's wording when given, else the regulatory model's).
func impactGrid(m *model.Matrix, scs, regScs []model.Subscale, out []model.Level, lang string) *gridView {
	if m == nil {
		return nil
	}
	pick := func(code string) *model.Subscale {
		if sc := findSubscale(scs, code); sc != nil {
			return sc
		}
		return findSubscale(regScs, code)
	}
	var rowTitle, colTitle string
	var rows, cols []string
	if sc := pick(m.Rows); sc != nil {
		rowTitle, rows = labelOr(sc.Labels, lang, sc.Code), heads(sc.Levels, lang)
	}
	if sc := pick(m.Columns); sc != nil {
		colTitle, cols = labelOr(sc.Labels, lang, sc.Code), heads(sc.Levels, lang)
	}
	if len(cols) == 0 && len(m.Cells) > 0 {
		for j := range m.Cells[0] {
			cols = append(cols, strconv.Itoa(j+1))
		}
	}
	return grid(i18n.T(lang, "mui.reg.impact_matrix"), rowTitle, colTitle, rows, cols, m.Cells, out, lang)
}

func deadline(d *model.Deadline, lang string) string {
	switch {
	case d == nil || (d.Hours == 0 && d.Days == 0 && d.Months == 0):
		return i18n.T(lang, "mui.stage.no_deadline")
	case d.Hours > 0:
		return i18n.T(lang, "mui.stage.hours", d.Hours)
	case d.Days > 0:
		return i18n.T(lang, "mui.stage.days", d.Days)
	}
	return i18n.T(lang, "mui.stage.months", d.Months)
}

// vocabLabel translates a closed vocabulary value, or shows it as is.
func vocabLabel(lang, prefix, v string) string {
	if k := prefix + v; i18n.Has(k) {
		return i18n.T(lang, k)
	}
	return v
}

func regulatoryView(d *model.Document, lang string) *regView {
	v := &regView{Regulation: d.Regulation}
	if rk := d.Risk; rk != nil {
		v.Method = rk.Method
		v.MethodDesc = tr(rk.Descriptions, lang)
		v.Likelihood = scaleView{Title: i18n.T(lang, "mui.reg.likelihood"), Levels: levels(rk.Likelihood, lang, false)}
		v.RiskLevels = levels(rk.Levels, lang, true)
		if im := rk.Impact; im != nil {
			for _, sc := range im.Subscales {
				v.Subscales = append(v.Subscales, scale(sc, lang))
			}
			v.ImpactLevels = levels(im.Levels, lang, true)
			v.ImpactGrid = impactGrid(im.Matrix, im.Subscales, nil, im.Levels, lang)
			if rk.Matrix != nil {
				v.RiskGrid = grid(i18n.T(lang, "mui.reg.risk_matrix"), i18n.T(lang, "mui.reg.likelihood"), i18n.T(lang, "mui.reg.impact"),
					heads(rk.Likelihood, lang), heads(im.Levels, lang), rk.Matrix.Cells, rk.Levels, lang)
			}
		}
		v.Threshold = rk.AcceptanceThreshold
		for _, l := range rk.Levels {
			if l.Code == rk.AcceptanceThreshold {
				v.Threshold = labelOr(l.Labels, lang, l.Code)
			}
		}
		for _, t := range rk.TreatmentOptions {
			v.Treatment = append(v.Treatment, vocabLabel(lang, "mui.treatment.", t))
		}
	}
	for _, it := range d.Submission {
		v.Submission = append(v.Submission, itemView{Code: it.Code, Label: labelOr(it.Labels, lang, it.Code), Desc: tr(it.Descriptions, lang), Required: it.Required})
	}
	if d.Notification != nil {
		for _, st := range d.Notification.Stages {
			sv := stageView{Code: st.Code, Label: labelOr(st.Labels, lang, st.Code), Deadline: deadline(st.Deadline, lang),
				Trigger: vocabLabel(lang, "mui.trigger.", st.Trigger), Obligation: vocabLabel(lang, "mui.obligation.", st.Obligation),
				Desc: tr(st.Descriptions, lang)}
			for _, r := range st.Recipients {
				sv.Recipients = append(sv.Recipients, vocabLabel(lang, "dir.link_role.", r))
			}
			for _, et := range st.EntityTypes {
				sv.EntityTypes = append(sv.EntityTypes, directory.EntityTypeLabel(lang, et))
			}
			v.Stages = append(v.Stages, sv)
		}
	}
	for _, sg := range d.Significance {
		it := itemView{Code: sg.Code, Label: labelOr(sg.Labels, lang, sg.Code), Desc: tr(sg.Descriptions, lang)}
		for _, c := range sg.AnyOf {
			it.Extra = append(it.Extra, strings.TrimSpace(fmt.Sprintf("%s %s %s %s", c.Metric, c.Op, strconv.FormatFloat(c.Value, 'f', -1, 64), c.Unit)))
		}
		v.Significance = append(v.Significance, it)
	}
	return v
}

func typeLabels(d *model.Document, lang string) (assetTypes, threatTypes map[string]string) {
	assetTypes, threatTypes = map[string]string{}, map[string]string{}
	if d == nil {
		return
	}
	for _, t := range d.AssetTypes {
		assetTypes[t.Code] = labelOr(t.Labels, lang, t.Code)
	}
	for _, t := range d.ThreatTypes {
		threatTypes[t.Code] = labelOr(t.Labels, lang, t.Code)
	}
	return
}

func knowledgeView(d *model.Document, lang string) *kbView {
	v := &kbView{}
	at, tt := typeLabels(d, lang)
	threats := map[string]string{}
	for _, t := range d.Threats {
		threats[t.Code] = labelOr(t.Labels, lang, t.Code)
	}
	groupAssets := map[string]int{}
	for _, t := range d.AssetTypes {
		groupAssets[t.Code] = len(v.AssetTypes)
		v.AssetTypes = append(v.AssetTypes, typeGroup{Code: t.Code, Label: at[t.Code]})
	}
	for _, a := range d.Assets {
		i, ok := groupAssets[a.Type]
		if !ok {
			groupAssets[a.Type] = len(v.AssetTypes)
			i = len(v.AssetTypes)
			v.AssetTypes = append(v.AssetTypes, typeGroup{Code: a.Type, Label: a.Type})
		}
		v.AssetTypes[i].Assets = append(v.AssetTypes[i].Assets, assetView{Code: a.Code, UUID: a.UUID, Label: labelOr(a.Labels, lang, a.Code), Desc: tr(a.Descriptions, lang), Type: at[a.Type]})
	}
	groupThreats := map[string]int{}
	for _, t := range d.ThreatTypes {
		groupThreats[t.Code] = len(v.ThreatTypes)
		v.ThreatTypes = append(v.ThreatTypes, typeGroup{Code: t.Code, Label: tt[t.Code]})
	}
	for _, t := range d.Threats {
		i, ok := groupThreats[t.Type]
		if !ok {
			groupThreats[t.Type] = len(v.ThreatTypes)
			i = len(v.ThreatTypes)
			v.ThreatTypes = append(v.ThreatTypes, typeGroup{Code: t.Type, Label: t.Type})
		}
		v.ThreatTypes[i].Threats = append(v.ThreatTypes[i].Threats, threatView{Code: t.Code, UUID: t.UUID, MonarcUUID: t.MonarcUUID,
			Label: labelOr(t.Labels, lang, t.Code), Desc: tr(t.Descriptions, lang), Type: tt[t.Type], Criteria: t.Criteria})
	}
	for _, vu := range d.Vulnerabilities {
		v.Vulns = append(v.Vulns, vulnItem(vu, lang, at, threats))
	}
	for _, m := range d.Measures {
		it := itemView{Code: m.Code, Label: labelOr(m.Labels, lang, m.Code), Desc: tr(m.Descriptions, lang)}
		refs := make([]string, 0, len(m.References))
		for k := range m.References {
			refs = append(refs, k)
		}
		sort.Strings(refs)
		for _, k := range refs {
			it.Extra = append(it.Extra, k+": "+strings.Join(m.References[k], ", "))
		}
		v.Measures = append(v.Measures, it)
	}
	return v
}

func vulnItem(vu model.Vulnerability, lang string, assetTypes, threats map[string]string) itemView {
	it := itemView{Code: vu.Code, Label: labelOr(vu.Labels, lang, vu.Code), Desc: tr(vu.Descriptions, lang)}
	for _, a := range vu.AssetTypes {
		it.Extra = append(it.Extra, labelIn(assetTypes, a))
	}
	for _, t := range vu.Threats {
		it.Extra = append(it.Extra, "→ "+labelIn(threats, t))
	}
	return it
}

func labelIn(m map[string]string, code string) string {
	if l, ok := m[code]; ok {
		return l
	}
	return code
}

func sectorModelView(d, reg, kb *model.Document, lang string) *sectorView {
	v := &sectorView{Sector: sectorLabel(lang, d.Sector), Regulatory: d.RegulatoryModel, KB: d.KnowledgeBase}
	at, tt := typeLabels(kb, lang)
	assets := map[string]assetView{}
	if kb != nil {
		for _, a := range kb.Assets {
			assets[a.Code] = assetView{Code: a.Code, UUID: a.UUID, Label: labelOr(a.Labels, lang, a.Code), Desc: tr(a.Descriptions, lang), Type: labelIn(at, a.Type)}
		}
	}
	for _, a := range d.Assets {
		assets[a.Code] = assetView{Code: a.Code, UUID: a.UUID, Label: labelOr(a.Labels, lang, a.Code), Desc: tr(a.Descriptions, lang), Type: labelIn(at, a.Type), Sector: true}
	}
	vulns := map[string]itemView{}
	threatLabels := map[string]string{}
	threats := map[string]threatView{}
	if kb != nil {
		for _, t := range kb.Threats {
			threatLabels[t.Code] = labelOr(t.Labels, lang, t.Code)
			threats[t.Code] = threatView{Code: t.Code, UUID: t.UUID, MonarcUUID: t.MonarcUUID, Label: threatLabels[t.Code],
				Desc: tr(t.Descriptions, lang), Type: labelIn(tt, t.Type), Criteria: t.Criteria}
		}
		for _, vu := range kb.Vulnerabilities {
			vulns[vu.Code] = itemView{Code: vu.Code, Label: labelOr(vu.Labels, lang, vu.Code), Desc: tr(vu.Descriptions, lang)}
		}
	}
	for _, vu := range d.Vulnerabilities {
		vulns[vu.Code] = itemView{Code: vu.Code, Label: labelOr(vu.Labels, lang, vu.Code), Desc: tr(vu.Descriptions, lang)}
	}
	tv := map[string][]string{}
	for _, x := range d.ThreatVulnerabilities {
		tv[x.Threat] = x.Vulnerabilities
	}
	threat := func(code string) threatView {
		t, ok := threats[code]
		if !ok {
			t = threatView{Code: code, Label: code}
		}
		t.Vulns = nil
		for _, vc := range tv[code] {
			it, ok := vulns[vc]
			if !ok {
				it = itemView{Code: vc, Label: vc}
			}
			t.Vulns = append(t.Vulns, it)
		}
		return t
	}
	usedBy := map[string][]string{}
	for _, es := range d.EssentialServices {
		sv := serviceView{Code: es.Code, UUID: es.UUID, Label: labelOr(es.Labels, lang, es.Code), Desc: tr(es.Descriptions, lang)}
		for _, ss := range es.SubServices {
			sub := subServiceView{Code: ss.Code, UUID: ss.UUID, Label: labelOr(ss.Labels, lang, ss.Code), Desc: tr(ss.Descriptions, lang)}
			for _, ac := range ss.Assets {
				a, ok := assets[ac]
				if !ok {
					a = assetView{Code: ac, Label: ac}
				}
				sub.Assets = append(sub.Assets, a)
				usedBy[ac] = append(usedBy[ac], sub.Label)
			}
			for _, tc := range ss.MandatoryThreats {
				sub.Threats = append(sub.Threats, threat(tc))
			}
			sv.Subs = append(sv.Subs, sub)
		}
		v.Services = append(v.Services, sv)
	}
	for _, a := range d.Assets {
		av := assets[a.Code]
		av.UsedBy = usedBy[a.Code]
		v.Assets = append(v.Assets, av)
	}
	for _, tc := range d.MandatoryThreats {
		v.Threats = append(v.Threats, threat(tc))
	}
	var regScs []model.Subscale
	var out []model.Level
	var regMatrix *model.Matrix
	if reg != nil && reg.Risk != nil && reg.Risk.Impact != nil {
		regScs, out, regMatrix = reg.Risk.Impact.Subscales, reg.Risk.Impact.Levels, reg.Risk.Impact.Matrix
		v.ImpactLevels = levels(out, lang, true)
	}
	var scs []model.Subscale
	m := regMatrix
	if d.Impact != nil {
		scs = d.Impact.Subscales
		for _, sc := range scs {
			sv := scale(sc, lang)
			if regSc := findSubscale(regScs, sc.Code); regSc != nil && len(sv.Levels) == 0 {
				sv.Levels = levels(regSc.Levels, lang, false)
			}
			v.Subscales = append(v.Subscales, sv)
		}
		if d.Impact.Matrix != nil {
			m = d.Impact.Matrix
		}
	}
	v.GridFromReg = m == regMatrix
	v.ImpactGrid = impactGrid(m, scs, regScs, out, lang)
	return v
}

// ---- downloads ----

func (s *Server) modelDownload(w http.ResponseWriter, r *http.Request) error {
	ver, err := versionParam("v", r.URL.Query().Get("v"))
	if err != nil {
		return err
	}
	v, err := s.getModel(r.Context(), r.PathValue("code"), ver)
	if err != nil {
		return err
	}
	return writeModel(w, v.Doc, r.URL.Query().Get("format"), true)
}

// writeModel writes a document as JSON (default) or YAML.
func writeModel(w http.ResponseWriter, d *model.Document, format string, attach bool) error {
	var body []byte
	ext := "json"
	switch format {
	case "", "json":
		w.Header().Set("Content-Type", "application/json")
		body = d.JSON()
	case "yaml", "yml":
		w.Header().Set("Content-Type", "application/yaml")
		body, ext = d.YAML(), "yaml"
	default:
		return errs.FieldKey("format", "mui.err.format")
	}
	if attach {
		w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="%s-%d.%s"`, d.Code, d.Version, ext))
	}
	w.Header().Set("Cache-Control", "no-store")
	w.Write(body)
	return nil
}

// ---- diff ----

type changeView struct {
	Op   model.Op
	Path string
	Old  string
	New  string
}

func changeViews(cs []model.Change) []changeView {
	out := make([]changeView, 0, len(cs))
	for _, c := range cs {
		out = append(out, changeView{Op: c.Op, Path: c.Path, Old: shortJSON(c.Old), New: shortJSON(c.New)})
	}
	return out
}

// shortJSON shows a diff value: a string as itself, anything else as
// compact JSON, cut after 600 characters.
func shortJSON(v any) string {
	if v == nil {
		return ""
	}
	s, ok := v.(string)
	if !ok {
		b, _ := json.Marshal(v)
		s = string(b)
	}
	if r := []rune(s); len(r) > 600 {
		s = string(r[:600]) + "…"
	}
	return s
}

type modelDiffData struct {
	Code     string
	Label    string
	From, To int
	Versions []model.Info
	Changes  []changeView
}

// diffVersions loads two versions (drafts only for editors) and diffs them.
func (s *Server) diffVersions(ctx context.Context, code string, from, to int) (*model.Version, *model.Version, []model.Change, error) {
	if from == 0 || to == 0 {
		var f errs.Fields
		if from == 0 {
			f.AddKey("from", "mui.err.version")
		}
		if to == 0 {
			f.AddKey("to", "mui.err.version")
		}
		return nil, nil, nil, f.Err()
	}
	a, err := s.getModel(ctx, code, from)
	if err != nil {
		return nil, nil, nil, err
	}
	b, err := s.getModel(ctx, code, to)
	if err != nil {
		return nil, nil, nil, err
	}
	return a, b, model.Diff(a.Doc, b.Doc), nil
}

func (s *Server) modelDiffPage(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	code := r.PathValue("code")
	q := r.URL.Query()
	from, err := versionParam("from", q.Get("from"))
	if err != nil {
		return err
	}
	to, err := versionParam("to", q.Get("to"))
	if err != nil {
		return err
	}
	infos, err := s.deps.Models.Versions(ctx, code)
	if err != nil {
		return err
	}
	// Defaults: the newest version the viewer may see against the one
	// before it.
	if to == 0 {
		edit := canEditModels(ctx)
		for _, in := range infos {
			if edit || in.Status == model.Published {
				to = in.Version
			}
		}
	}
	if from == 0 {
		from = to - 1
		if from < 1 {
			from = to
		}
	}
	_, b, changes, err := s.diffVersions(ctx, code, from, to)
	if err != nil {
		return err
	}
	d := modelDiffData{Code: code, Label: labelOr(b.Doc.Labels, langOf(r), code), From: from, To: to, Versions: infos, Changes: changeViews(changes)}
	s.render(w, r, "model_diff", s.newPage(r, "mui.diff.title", d))
	return nil
}

// ---- editor ----

type modelEditData struct {
	Code     string
	Version  int
	Label    string
	YAML     string
	Problems []modelProblem
	Checked  bool // validated without problems
}

// draftParams reads code and version of an editor route and loads the
// draft, refusing early those who may not edit.
func (s *Server) draftParams(r *http.Request) (*model.Version, error) {
	if err := checkModelEdit(r.Context()); err != nil {
		return nil, err
	}
	ver, err := versionParam("version", r.PathValue("version"))
	if err != nil {
		return nil, err
	}
	if ver == 0 {
		return nil, errs.FieldKey("version", "mui.err.version")
	}
	v, err := s.deps.Models.Get(r.Context(), r.PathValue("code"), ver)
	if err != nil {
		return nil, err
	}
	if v.Status != model.Draft {
		return nil, &errs.Error{Code: errs.Conflict, Message: i18n.T("en", "mui.err.published"), Key: "mui.err.published"}
	}
	return v, nil
}

func (s *Server) modelEditPage(w http.ResponseWriter, r *http.Request, d modelEditData, status int) error {
	s.render(w, r, "model_edit", s.newPage(r, "mui.edit.title", d), status)
	return nil
}

func (s *Server) modelEditForm(w http.ResponseWriter, r *http.Request) error {
	v, err := s.draftParams(r)
	if err != nil {
		return err
	}
	return s.modelEditPage(w, r, modelEditData{Code: v.Code, Version: v.Version, Label: labelOr(v.Doc.Labels, langOf(r), v.Code), YAML: string(v.Doc.YAML())}, http.StatusOK)
}

// modelEditSubmit validates (action=validate) or saves (action=save) the
// YAML of a draft. Problems name the lines of the submitted text; an
// invalid draft is never stored and the text is kept in the form.
func (s *Server) modelEditSubmit(w http.ResponseWriter, r *http.Request) error {
	v, err := s.draftParams(r)
	if err != nil {
		return err
	}
	r.Body = http.MaxBytesReader(w, r.Body, model.MaxSize+64<<10)
	if err := r.ParseForm(); err != nil {
		return errs.FieldKey("yaml", "mui.err.too_large")
	}
	text := strings.ReplaceAll(r.PostForm.Get("yaml"), "\r\n", "\n")
	lang := langOf(r)
	d := modelEditData{Code: v.Code, Version: v.Version, Label: labelOr(v.Doc.Labels, lang, v.Code), YAML: text}
	doc, ps, err := s.checkModel(r.Context(), "draft", []byte(text))
	if err != nil {
		return err
	}
	if len(ps) > 0 {
		d.Problems = problemsFor(ps, lang)
		return s.modelEditPage(w, r, d, http.StatusUnprocessableEntity)
	}
	if r.PostForm.Get("action") != "save" {
		d.Checked = true
		return s.modelEditPage(w, r, d, http.StatusOK)
	}
	if _, err := s.deps.Models.SaveDraft(r.Context(), v.Code, v.Version, doc); err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			d.Problems = fieldProblems(err, doc, lang)
			return s.modelEditPage(w, r, d, errs.HTTPStatus(errs.As(err).Code))
		}
		return err
	}
	s.setFlash(w, "mui.flash.saved", true)
	http.Redirect(w, r, fmt.Sprintf("/models/%s/versions/%d/edit", url.PathEscape(v.Code), v.Version), http.StatusSeeOther)
	return nil
}

func (s *Server) modelCreateDraft(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := checkModelEdit(ctx); err != nil {
		return err
	}
	code := r.PathValue("code")
	in, err := s.deps.Models.CreateDraft(ctx, code)
	if errs.Is(err, errs.Conflict) {
		// A draft exists already: open it.
		infos, verr := s.deps.Models.Versions(ctx, code)
		if verr != nil {
			return verr
		}
		for _, x := range infos {
			if x.Status == model.Draft {
				in = x
			}
		}
		if in.Version == 0 {
			return err
		}
		s.setFlash(w, "mui.flash.draft_exists", false)
	} else if err != nil {
		return err
	} else {
		s.setFlash(w, "mui.flash.draft_created", true)
	}
	http.Redirect(w, r, fmt.Sprintf("/models/%s/versions/%d/edit", url.PathEscape(code), in.Version), http.StatusSeeOther)
	return nil
}

type modelPublishData struct {
	Code      string
	Version   int
	Label     string
	Published int
	Changes   []changeView
	Problems  []modelProblem
}

func (s *Server) publishPage(w http.ResponseWriter, r *http.Request, v *model.Version, problems []modelProblem, status int) error {
	d := modelPublishData{Code: v.Code, Version: v.Version, Label: labelOr(v.Doc.Labels, langOf(r), v.Code), Problems: problems}
	var base *model.Document
	cur, err := s.deps.Models.Get(r.Context(), v.Code, 0)
	switch {
	case err == nil:
		base, d.Published = cur.Doc, cur.Version
	case !errs.Is(err, errs.NotFound):
		return err
	}
	d.Changes = changeViews(model.Diff(base, v.Doc))
	s.render(w, r, "model_publish", s.newPage(r, "mui.publish.title", d), status)
	return nil
}

func (s *Server) modelPublishForm(w http.ResponseWriter, r *http.Request) error {
	v, err := s.draftParams(r)
	if err != nil {
		return err
	}
	return s.publishPage(w, r, v, nil, http.StatusOK)
}

func (s *Server) modelPublish(w http.ResponseWriter, r *http.Request) error {
	v, err := s.draftParams(r)
	if err != nil {
		return err
	}
	if _, err := s.deps.Models.Publish(r.Context(), v.Code, v.Version); err != nil {
		if errs.Is(err, errs.Invalid) {
			return s.publishPage(w, r, v, fieldProblems(err, nil, langOf(r)), http.StatusUnprocessableEntity)
		}
		return err
	}
	s.setFlash(w, "mui.flash.published", true)
	http.Redirect(w, r, "/models/"+url.PathEscape(v.Code), http.StatusSeeOther)
	return nil
}

// ---- import ----

type modelImportData struct {
	Name     string
	Problems []modelProblem
}

func (s *Server) modelImportForm(w http.ResponseWriter, r *http.Request) error {
	if err := checkModelEdit(r.Context()); err != nil {
		return err
	}
	s.render(w, r, "model_import", s.newPage(r, "mui.import.title", modelImportData{}))
	return nil
}

func (s *Server) modelImport(w http.ResponseWriter, r *http.Request) error {
	ctx := r.Context()
	if err := checkModelEdit(ctx); err != nil {
		return err
	}
	lang := langOf(r)
	fail := func(d modelImportData) error {
		s.render(w, r, "model_import", s.newPage(r, "mui.import.title", d), http.StatusUnprocessableEntity)
		return nil
	}
	r.Body = http.MaxBytesReader(w, r.Body, model.MaxSize+64<<10)
	file, hdr, err := r.FormFile("file")
	if err != nil {
		return fail(modelImportData{Problems: []modelProblem{{Message: i18n.T(lang, "mui.import.no_file")}}})
	}
	defer file.Close()
	data, err := io.ReadAll(io.LimitReader(file, model.MaxSize+1))
	if err != nil {
		return fail(modelImportData{Problems: []modelProblem{{Message: err.Error()}}})
	}
	name := path.Base(strings.ReplaceAll(hdr.Filename, `\`, "/"))
	d := modelImportData{Name: name}
	doc, ps, err := s.checkModel(ctx, name, data)
	if err != nil {
		return err
	}
	if len(ps) > 0 {
		d.Problems = problemsFor(ps, lang)
		return fail(d)
	}
	in, err := s.deps.Models.Import(ctx, data, model.ImportOptions{Name: name})
	if err != nil {
		if errs.Is(err, errs.Invalid) || errs.Is(err, errs.Conflict) {
			d.Problems = fieldProblems(err, doc, lang)
			return fail(d)
		}
		return err
	}
	s.setFlash(w, "mui.flash.imported", true)
	http.Redirect(w, r, fmt.Sprintf("/models/%s/versions/%d/edit", url.PathEscape(in.Code), in.Version), http.StatusSeeOther)
	return nil
}
