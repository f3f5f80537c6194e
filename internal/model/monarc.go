package model

// Importing the MONARC open knowledge base (issue 3): the layout of
// monarc-project/monarc-objects, read from an fs.FS, converted into one
// knowledge-base document.
//
// Layout read (everything else is ignored, in particular the EN.json/FR.json
// library dumps at the top, which the per-object folders duplicate):
//
//	threats/<uuid>_<LANG>.json          {uuid, code, label, description, theme, c, i, a, language}
//	vulnerabilities/<uuid>_<LANG>.json  {uuid, code, label, description, mode, status, language}
//	assets/<uuid>_<LANG>.json           {uuid, code, label, description, type: Primary|Secondary, version}
//	risks/<uuid>.json                   {uuid, asset, threat, vulnerability}: the risk triplets
//	referentials/*.json                 {uuid, label, values: [{uuid, code, label, category}]}
//	referentials-mapping/*.json         {uuid, label: "A - B", values: [{control, match}]}
//
// Choices (documented in the imported document's description too):
//
//   - UUIDs. The schema of model documents wants version-4 UUIDs; MONARC's
//     threats, vulnerabilities and assets have version-1 UUIDs. An element
//     keeps its MONARC UUID as uuid when it is a valid version-4 UUID (the
//     referential measures); otherwise its uuid is derived from the MONARC
//     UUID (SHA-256 of "nisduc/monarc" and the UUID, shaped as version 4),
//     stable across imports, and threats and vulnerabilities carry the
//     MONARC UUID itself in monarc_uuid.
//   - Codes. An element's code is its MONARC code in lower case with '-'
//     ("MA11" → ma11, "OV_SALLE_IT" → ov-salle-it), prefixed by the element
//     kind when it does not start with a letter (vulnerability "12" →
//     vuln-12); the English label when there is no code. A code already taken
//     gets the first eight hex digits of the MONARC UUID appended.
//   - Asset types: see monarcAssetType.
//   - Threat types: MONARC's themes, coded from their English label.
//   - Measures: one per measure of each referential, coded
//     "<referential>-<code>" (nis-cg-1-1-1); references list the measure's
//     own code under its referential's key and the mapped measures of
//     referentials-mapping: by code when the other referential is in
//     referentials/, by MONARC UUID otherwise.

import (
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"regexp"
	"slices"
	"sort"
	"strconv"
	"strings"
	"unicode"

	"github.com/google/uuid"
	"golang.org/x/text/unicode/norm"
)

// MONARCCode is the default code of the imported knowledge base.
const MONARCCode = "monarc"

// maxMONARCFile bounds one file of the MONARC layout (objects are well
// under 10 KiB; a referential with its measures well under 1 MiB).
const maxMONARCFile = 8 << 20

// monarcLanguages is the order in which a missing English text is taken
// from another language.
var monarcLanguages = []string{"en", "fr", "de", "nl"}

// monarcAssetTypes are the seven supporting-asset types of docs/models.md.
var monarcAssetTypes = []TypeElement{
	{Code: "hardware", Labels: Text{"en": "Hardware", "fr": "Matériel", "de": "Hardware", "nl": "Hardware"}},
	{Code: "software", Labels: Text{"en": "Software", "fr": "Logiciel", "de": "Software", "nl": "Software"}},
	{Code: "network", Labels: Text{"en": "Network", "fr": "Réseau", "de": "Netzwerk", "nl": "Netwerk"}},
	{Code: "site", Labels: Text{"en": "Site", "fr": "Site", "de": "Standort", "nl": "Locatie"}},
	{Code: "personnel", Labels: Text{"en": "Personnel", "fr": "Personnel", "de": "Personal", "nl": "Personeel"}},
	{Code: "system", Labels: Text{"en": "System", "fr": "Système", "de": "System", "nl": "Systeem"}},
	{Code: "outsourced-service", Labels: Text{"en": "Outsourced service", "fr": "Service externalisé", "de": "Ausgelagerter Dienst", "nl": "Uitbestede dienst"}},
}

// monarcAssetCodes maps MONARC asset codes (upper case) to asset types,
// for the codes whose prefix does not tell: the "OV_" assets of MONARC's
// simplified model, and the organisation assets.
var monarcAssetCodes = map[string]string{
	"OV_BACKUP":           "system",   // a backup system: storage, software and procedure
	"OV_BATI":             "site",     // building, office or premises
	"OV_DEVELOPPEMENT":    "software", // software development
	"OV_INFOPHY":          "hardware", // paper documents: a physical medium
	"OV_LOGICIEL":         "software",
	"OV_MAINTENANCE":      "software", // software maintenance
	"OV_MOBIL":            "hardware",
	"OV_MULTI_IMPRIMANTE": "hardware",
	"OV_ORGANISATION":     "personnel", // the IT organisation: people and roles
	"OV_POSTE_FIXE":       "hardware",
	"OV_RESEAU":           "network",
	"OV_SALLE_IT":         "site",
	"OV_SERVEUR":          "hardware",
	"OV_UTIL":             "personnel",
	"ORG_EXT":             "outsourced-service", // subcontractors, suppliers, manufacturers
	"ORG_GEN":             "personnel",          // structure of the organisation
	"SERV_ESS":            "site",               // electricity, telecoms, heating, air conditioning of the premises
}

// monarcAssetPrefixes maps the prefix of a MONARC asset code (before the
// first '_') to an asset type.
var monarcAssetPrefixes = map[string]string{
	"BAT":    "site",      // bâtiment: premises
	"LOG":    "software",  // logiciel
	"MAT":    "hardware",  // matériel, including media
	"PER":    "personnel", // personnel
	"RESEAU": "network",
	"SYS":    "system", // directory, intranet, messaging, portal: systems assessed as a whole
	"ORG":    "personnel",
}

// monarcAssetType maps a MONARC asset to one of the seven asset types.
// MONARC's primary assets (type "Primary": information, processes,
// services, containers) are business assets, not supporting assets: they
// become "system", the type of a whole assessed as a unit, and no risk
// triplet names them. Secondary assets are mapped by their code: first
// the table of exact codes (monarcAssetCodes), then the prefix before the
// first '_' (monarcAssetPrefixes). ok is false for an unknown code, which
// is mapped to "system" too.
func monarcAssetType(code, kind string) (string, bool) {
	if strings.EqualFold(kind, "Primary") {
		return "system", true
	}
	c := strings.ToUpper(strings.TrimSpace(code))
	if t, ok := monarcAssetCodes[c]; ok {
		return t, true
	}
	prefix, _, _ := strings.Cut(c, "_")
	if t, ok := monarcAssetPrefixes[prefix]; ok {
		return t, true
	}
	return "system", false
}

// monarcReferentialKeys are the reference keys of known referentials (by
// label); others are keyed by their label in lower case with '-'. The NIS
// Cooperation Group measures use kb-generic's key. MONARC's ISO/IEC 27002
// referential is the 2013 edition, so it keeps its own key
// ("iso-iec-27002"), distinct from kb-generic's iso27002 (2022 controls).
var monarcReferentialKeys = map[string]string{
	"nis security measures for oes": "nis-cg",
	"nis security measures":         "nis-cg",
	"nist core":                     "nist-csf", // the NIST Cybersecurity Framework core
}

// monarcBool reads MONARC's c/i/a flags, written as booleans, 0/1 or "0"/"1".
type monarcBool bool

func (b *monarcBool) UnmarshalJSON(data []byte) error {
	switch strings.Trim(string(data), `"`) {
	case "true", "1":
		*b = true
	case "false", "0", "", "null":
		*b = false
	default:
		return fmt.Errorf("%s is not a boolean", data)
	}
	return nil
}

// MONARCObject is one language file of a MONARC threat, vulnerability or
// asset.
type MONARCObject struct {
	UUID        string     `json:"uuid"`
	Code        string     `json:"code"`
	Label       string     `json:"label"`
	Description string     `json:"description"`
	Language    string     `json:"language"`
	Theme       string     `json:"theme"` // threats
	C           monarcBool `json:"c"`     // threats: confidentiality
	I           monarcBool `json:"i"`     // threats: integrity
	A           monarcBool `json:"a"`     // threats: availability
	Type        string     `json:"type"`  // assets: Primary or Secondary
}

// DecodeMONARCObject reads one object file: a JSON object with a UUID (any
// version, returned in lower case) and string fields; the language, when
// given, is two letters (returned in lower case).
func DecodeMONARCObject(data []byte) (MONARCObject, error) {
	var o MONARCObject
	if len(data) > maxMONARCFile {
		return o, fmt.Errorf("larger than %d bytes", maxMONARCFile)
	}
	if err := json.Unmarshal(data, &o); err != nil {
		return MONARCObject{}, jsonError(err)
	}
	o.UUID = strings.ToLower(strings.TrimSpace(o.UUID))
	if !uuidRE.MatchString(o.UUID) {
		return MONARCObject{}, fmt.Errorf("uuid %q is not a UUID", o.UUID)
	}
	o.Language = strings.ToLower(strings.TrimSpace(o.Language))
	if o.Language != "" && !isLang(o.Language) {
		return MONARCObject{}, fmt.Errorf("language %q is not a two-letter code", o.Language)
	}
	return o, nil
}

// jsonError words a JSON decoding error without Go type names.
func jsonError(err error) error {
	var te *json.UnmarshalTypeError
	if errors.As(err, &te) {
		return fmt.Errorf("field %q: %s where %s was expected", te.Field, te.Value, jsonKind(te.Type.Kind().String()))
	}
	return errors.New(strings.TrimPrefix(err.Error(), "json: "))
}

func jsonKind(k string) string {
	switch k {
	case "string":
		return "a string"
	case "struct", "map":
		return "an object"
	case "slice":
		return "a list"
	}
	return "a " + k
}

func isLang(s string) bool {
	return len(s) == 2 && 'a' <= s[0] && s[0] <= 'z' && 'a' <= s[1] && s[1] <= 'z'
}

// monarcItem is one MONARC object merged over its language files.
type monarcItem struct {
	uuid  string
	files map[string]string       // language → file name
	langs map[string]MONARCObject // language → content
	main  MONARCObject            // the English file, or the fallback's
	code  string                  // nisduc code
	index int                     // position in the document's list
}

// text returns the labels and descriptions of it, English first; fallback
// names the language English was taken from ("" when English exists).
func (it *monarcItem) text(field func(MONARCObject) string, fallback bool) (Text, string) {
	t := Text{}
	for lang, o := range it.langs {
		if s := cleanText(field(o)); s != "" {
			t[lang] = s
		}
	}
	if t["en"] != "" || !fallback {
		return t, ""
	}
	for _, lang := range append(monarcLanguages[1:], sortedKeys(t)...) {
		if s := t[lang]; s != "" {
			t["en"] = s
			return t, lang
		}
	}
	return t, ""
}

// cleanText trims s and collapses its runs of white space.
func cleanText(s string) string {
	return strings.Join(strings.Fields(s), " ")
}

func sortedKeys[V any](m map[string]V) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

// monarcObjectName is "<uuid>_<LANG>.json".
var monarcObjectName = regexp.MustCompile(`^([0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12})_([A-Za-z]{2})\.json$`)

// monarcConverter accumulates problems while reading fsys.
type monarcConverter struct {
	fsys     fs.FS
	problems []Problem
	uuids    map[string]bool // the element UUIDs given
}

func (c *monarcConverter) fail(file, format string, args ...any) {
	c.problems = append(c.problems, Problem{File: file, Message: fmt.Sprintf(format, args...)})
}

// read returns the content of name, or nil after reporting a problem.
func (c *monarcConverter) read(name string) []byte {
	f, err := c.fsys.Open(name)
	if err != nil {
		c.fail(name, "cannot read: %v", unwrapPathError(err))
		return nil
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxMONARCFile+1))
	if err != nil {
		c.fail(name, "cannot read: %v", unwrapPathError(err))
		return nil
	}
	if len(data) > maxMONARCFile {
		c.fail(name, "larger than %d bytes", maxMONARCFile)
		return nil
	}
	return data
}

func unwrapPathError(err error) error {
	var pe *fs.PathError
	if errors.As(err, &pe) {
		return pe.Err
	}
	return err
}

// jsonFiles lists the .json files of dir, sorted; a missing folder is a
// problem when required.
func (c *monarcConverter) jsonFiles(dir string, required bool) []string {
	entries, err := fs.ReadDir(c.fsys, dir)
	if err != nil {
		if required || !errors.Is(err, fs.ErrNotExist) {
			c.fail(dir, "cannot read the folder: %v", unwrapPathError(err))
		}
		return nil
	}
	var names []string
	for _, e := range entries {
		if e.IsDir() || !strings.EqualFold(path.Ext(e.Name()), ".json") {
			continue
		}
		names = append(names, path.Join(dir, e.Name()))
	}
	sort.Strings(names)
	return names
}

// objects reads the object files of dir and merges them per UUID, in the
// order of their (English or fallback) MONARC code, then UUID.
func (c *monarcConverter) objects(dir, what string) []*monarcItem {
	byUUID := map[string]*monarcItem{}
	for _, name := range c.jsonFiles(dir, true) {
		m := monarcObjectName.FindStringSubmatch(path.Base(name))
		if m == nil {
			c.fail(name, "not a MONARC object file name (<uuid>_<LANG>.json)")
			continue
		}
		fileUUID, lang := strings.ToLower(m[1]), strings.ToLower(m[2])
		data := c.read(name)
		if data == nil {
			continue
		}
		o, err := DecodeMONARCObject(data)
		if err != nil {
			c.fail(name, "not a MONARC %s: %v", what, err)
			continue
		}
		if o.UUID != fileUUID {
			c.fail(name, "uuid %s differs from the file name", o.UUID)
			continue
		}
		if o.Language != "" && o.Language != lang {
			c.fail(name, "language %q differs from the file name; the file name's %q is used", strings.ToUpper(o.Language), strings.ToUpper(lang))
		}
		it := byUUID[o.UUID]
		if it == nil {
			it = &monarcItem{uuid: o.UUID, files: map[string]string{}, langs: map[string]MONARCObject{}}
			byUUID[o.UUID] = it
		}
		if _, dup := it.files[lang]; dup {
			c.fail(name, "a second %s file for language %q; %s is used", what, strings.ToUpper(lang), it.files[lang])
			continue
		}
		it.files[lang], it.langs[lang] = name, o
	}
	items := make([]*monarcItem, 0, len(byUUID))
	for _, it := range byUUID {
		it.main = it.langs["en"]
		if _, ok := it.langs["en"]; !ok {
			for _, lang := range append(monarcLanguages[1:], sortedKeys(it.langs)...) {
				if o, ok := it.langs[lang]; ok {
					it.main = o
					break
				}
			}
		}
		items = append(items, it)
	}
	sort.Slice(items, func(i, j int) bool {
		a, b := items[i], items[j]
		if a.main.Code != b.main.Code {
			return naturalLess(a.main.Code, b.main.Code)
		}
		return a.uuid < b.uuid
	})
	return items
}

// labels returns the labels and descriptions of it, reporting an object
// without English (or without any label).
func (c *monarcConverter) labels(it *monarcItem, what string) (Text, Text) {
	labels, from := it.text(func(o MONARCObject) string { return o.Label }, true)
	descs, _ := it.text(func(o MONARCObject) string { return o.Description }, false)
	switch {
	case from != "":
		if _, ok := it.langs["en"]; ok {
			c.fail(it.files["en"], "%s %s has no English label; the %s label is used", what, it.uuid, strings.ToUpper(from))
		} else {
			c.fail(it.files[from], "%s %s has no English file; the %s label is used", what, it.uuid, strings.ToUpper(from))
		}
	case labels["en"] == "":
		labels["en"] = it.main.Code
		if labels["en"] == "" {
			labels["en"] = it.uuid
		}
		c.fail(it.files[sortedKeys(it.files)[0]], "%s %s has no label in any language; %q is used", what, it.uuid, labels["en"])
	}
	if len(descs) == 0 {
		descs = nil
	}
	return labels, descs
}

// codes assigns every item a unique nisduc code (see the package notes).
func codes(items []*monarcItem, prefix string, labels func(*monarcItem) Text) {
	taken := map[string]bool{}
	for _, it := range items {
		code := slug(it.main.Code, 90)
		if code == "" {
			code = slug(labels(it)["en"], 60)
		}
		if code == "" || code[0] < 'a' || code[0] > 'z' {
			code = strings.Trim(prefix+"-"+code, "-")
		}
		if taken[code] {
			code += "-" + it.uuid[:8]
		}
		taken[code] = true
		it.code = code
	}
}

// slug turns s into a code: letters without accents and digits in lower
// case, every other run of characters a single '-', at most max bytes.
func slug(s string, max int) string {
	var b strings.Builder
	dash := false
	for _, r := range norm.NFD.String(s) {
		switch {
		case unicode.Is(unicode.Mn, r):
			continue
		case r < unicode.MaxASCII && (unicode.IsLetter(r) || unicode.IsDigit(r)):
			if dash && b.Len() > 0 {
				b.WriteByte('-')
			}
			dash = false
			b.WriteRune(unicode.ToLower(r))
		default:
			dash = true
		}
	}
	out := b.String()
	if len(out) > max {
		out = strings.TrimRight(out[:max], "-")
	}
	return out
}

// naturalLess orders codes with their digit runs by value ("2" < "10").
func naturalLess(a, b string) bool {
	for a != "" && b != "" {
		da, db := digitPrefix(a), digitPrefix(b)
		if da != "" && db != "" {
			na, _ := strconv.ParseUint(da, 10, 64)
			nb, _ := strconv.ParseUint(db, 10, 64)
			if na != nb || da != db {
				if na != nb {
					return na < nb
				}
				return da < db
			}
			a, b = a[len(da):], b[len(db):]
			continue
		}
		if a[0] != b[0] {
			return a[0] < b[0]
		}
		a, b = a[1:], b[1:]
	}
	return len(a) < len(b)
}

func digitPrefix(s string) string {
	i := 0
	for i < len(s) && i < 18 && s[i] >= '0' && s[i] <= '9' {
		i++
	}
	return s[:i]
}

// MONARCUUID is the uuid an element of kind ("threat", "vulnerability",
// "asset", "measure") imported from MONARC gets: the MONARC UUID itself
// (MONARC's are version 1; model documents accept any RFC 4122 UUID), so an
// authority on MONARC keeps its identifiers; only a malformed one is
// replaced by a UUID derived from the kind and it, the same on every import.
func MONARCUUID(kind, monarc string) string {
	monarc = strings.ToLower(monarc)
	if uuidRE.MatchString(monarc) {
		return monarc // MONARC's own UUID: an authority on MONARC keeps it
	}
	return derivedUUID(kind + ":" + monarc)
}

// uuid returns MONARCUUID(kind, monarc), or the derived UUID when another
// element already has it (the same version-4 UUID in two folders).
func (c *monarcConverter) uuid(kind, monarc string) string {
	u := MONARCUUID(kind, monarc)
	if c.uuids[u] {
		u = derivedUUID(kind + ":" + monarc)
	}
	if c.uuids == nil {
		c.uuids = map[string]bool{}
	}
	c.uuids[u] = true
	return u
}

func v4(u string) bool {
	return uuidRE.MatchString(u) && u[14] == '4' && strings.ContainsRune("89ab", rune(u[19]))
}

func derivedUUID(name string) string {
	h := sha256.Sum256([]byte("nisduc/monarc\x00" + name))
	var u uuid.UUID
	copy(u[:], h[:16])
	u[6] = u[6]&0x0f | 0x40
	u[8] = u[8]&0x3f | 0x80
	return u.String()
}

// FromMONARC converts the MONARC objects folder in fsys (the layout of
// monarc-project/monarc-objects, e.g. os.DirFS(dir)) into one knowledge-base
// document coded "monarc". See FromMONARCCode.
func FromMONARC(fsys fs.FS) (*Document, []Problem) {
	return FromMONARCCode(fsys, MONARCCode)
}

// FromMONARCCode converts the MONARC objects folder in fsys into one
// knowledge-base document with code (its uuid derived from the code, so
// re-importing the same code makes a new version of the same model). The
// files of an object in several languages are merged per UUID; threats
// keep MONARC's themes as threat types and its c/i/a flags as criteria;
// vulnerabilities get their threats and asset types from the risk
// triplets; assets are typed by monarcAssetType; every referential's
// measures become measures, referenced through referentials-mapping.
//
// Every problem is returned at once, each naming its file (relative to
// fsys): an unreadable or undecodable file, an object without English
// (its label is then taken from another language), a triplet or mapping
// that names an unknown object (it is then left out). The document is
// returned in every case and passes Validate; problems say what it lacks.
func FromMONARCCode(fsys fs.FS, code string) (*Document, []Problem) {
	c := &monarcConverter{fsys: fsys}
	doc := &Document{
		Kind:    KindKnowledgeBase,
		Code:    code,
		UUID:    derivedUUID("document:" + code),
		Version: 1,
		Labels: Text{"en": "MONARC knowledge base", "fr": "Base de connaissances MONARC",
			"de": "MONARC-Wissensbasis", "nl": "MONARC-kennisbank"},
		AssetTypes: slices.Clone(monarcAssetTypes),
	}

	threats := c.objects("threats", "threat")
	vulns := c.objects("vulnerabilities", "vulnerability")
	assets := c.objects("assets", "asset")

	type texts struct{ labels, descs Text }
	tx := map[*monarcItem]texts{}
	for _, group := range []struct {
		items []*monarcItem
		what  string
	}{{threats, "threat"}, {vulns, "vulnerability"}, {assets, "asset"}} {
		for _, it := range group.items {
			l, d := c.labels(it, group.what)
			tx[it] = texts{l, d}
		}
	}
	labelsOf := func(it *monarcItem) Text { return tx[it].labels }
	codes(threats, "threat", labelsOf)
	codes(vulns, "vuln", labelsOf)
	codes(assets, "asset", labelsOf)

	// Threat types: MONARC's themes. A theme without English is matched
	// through its other languages to the theme of a threat with English.
	themeOf := func(it *monarcItem) Text {
		theme := Text{}
		for lang, o := range it.langs {
			if s := cleanText(o.Theme); s != "" {
				theme[lang] = s
			}
		}
		return theme
	}
	english := map[string]string{} // "lang\x00theme" → English theme
	for _, it := range threats {
		if theme := themeOf(it); theme["en"] != "" {
			for lang, s := range theme {
				if _, ok := english[lang+"\x00"+s]; !ok {
					english[lang+"\x00"+s] = theme["en"]
				}
			}
		}
	}
	themes := map[string]int{} // code → index in ThreatTypes
	for _, it := range threats {
		theme := themeOf(it)
		if theme["en"] == "" {
			for _, lang := range append(monarcLanguages[1:], sortedKeys(theme)...) {
				if en := english[lang+"\x00"+theme[lang]]; en != "" {
					theme["en"] = en
					break
				}
			}
		}
		if theme["en"] == "" {
			for _, lang := range append(monarcLanguages[1:], sortedKeys(theme)...) {
				if theme[lang] != "" {
					theme["en"] = theme[lang]
					break
				}
			}
		}
		tcode := slug(theme["en"], 60)
		if tcode == "" {
			tcode, theme = "unclassified", Text{"en": "Unclassified", "fr": "Non classé", "de": "Nicht klassifiziert", "nl": "Niet ingedeeld"}
		}
		if i, ok := themes[tcode]; ok {
			for lang, s := range theme { // complete the languages a first threat lacked
				if doc.ThreatTypes[i].Labels[lang] == "" {
					doc.ThreatTypes[i].Labels[lang] = s
				}
			}
		} else {
			themes[tcode] = len(doc.ThreatTypes)
			doc.ThreatTypes = append(doc.ThreatTypes, TypeElement{Code: tcode, Labels: theme})
		}
		var criteria []string
		for _, f := range []struct {
			on bool
			c  string
		}{{bool(it.main.C), "C"}, {bool(it.main.I), "I"}, {bool(it.main.A), "A"}} {
			if f.on {
				criteria = append(criteria, f.c)
			}
		}
		if len(criteria) == 0 {
			c.fail(it.files[langOf(it)], "threat %s affects none of c, i, a; C, I and A are assumed", it.uuid)
			criteria = []string{"C", "I", "A"}
		}
		it.index = len(doc.Threats)
		doc.Threats = append(doc.Threats, Threat{Code: it.code, UUID: c.uuid("threat", it.uuid), MonarcUUID: it.uuid,
			Type: tcode, Criteria: criteria, Labels: tx[it].labels, Descriptions: tx[it].descs})
	}
	if len(doc.ThreatTypes) == 0 { // the schema wants at least one
		doc.ThreatTypes = []TypeElement{{Code: "unclassified", Labels: Text{"en": "Unclassified", "fr": "Non classé", "de": "Nicht klassifiziert", "nl": "Niet ingedeeld"}}}
	}

	typeOrder := map[string]int{}
	for i, t := range monarcAssetTypes {
		typeOrder[t.Code] = i
	}
	assetType := map[string]string{} // MONARC UUID → asset type
	for _, it := range assets {
		t, ok := monarcAssetType(it.main.Code, it.main.Type)
		if !ok {
			c.fail(it.files[langOf(it)], "asset %s: no asset type is known for code %q; system is used", it.uuid, it.main.Code)
		}
		assetType[it.uuid] = t
		it.index = len(doc.Assets)
		doc.Assets = append(doc.Assets, Asset{Code: it.code, UUID: c.uuid("asset", it.uuid), MONARCUUID: it.uuid, Type: t,
			Labels: tx[it].labels, Descriptions: tx[it].descs})
	}

	// Vulnerabilities, linked through the risk triplets.
	threatBy := map[string]*monarcItem{}
	for _, it := range threats {
		threatBy[it.uuid] = it
	}
	vulnBy := map[string]*monarcItem{}
	for _, it := range vulns {
		vulnBy[it.uuid] = it
	}
	vThreats := map[string]map[int]bool{}  // vulnerability UUID → threat indexes
	vTypes := map[string]map[string]bool{} // vulnerability UUID → asset types
	for _, name := range c.jsonFiles("risks", false) {
		data := c.read(name)
		if data == nil {
			continue
		}
		var r struct{ UUID, Asset, Threat, Vulnerability string }
		if err := json.Unmarshal(data, &r); err != nil {
			c.fail(name, "not a MONARC risk triplet: %v", jsonError(err))
			continue
		}
		r.Asset, r.Threat, r.Vulnerability = strings.ToLower(r.Asset), strings.ToLower(r.Threat), strings.ToLower(r.Vulnerability)
		ok := true
		for _, ref := range []struct{ what, id string }{{"asset", r.Asset}, {"threat", r.Threat}, {"vulnerability", r.Vulnerability}} {
			known := false
			switch ref.what {
			case "asset":
				_, known = assetType[ref.id]
			case "threat":
				known = threatBy[ref.id] != nil
			case "vulnerability":
				known = vulnBy[ref.id] != nil
			}
			if !known {
				c.fail(name, "the triplet names an unknown %s %q; it is left out", ref.what, ref.id)
				ok = false
			}
		}
		if !ok {
			continue
		}
		if vThreats[r.Vulnerability] == nil {
			vThreats[r.Vulnerability], vTypes[r.Vulnerability] = map[int]bool{}, map[string]bool{}
		}
		vThreats[r.Vulnerability][threatBy[r.Threat].index] = true
		vTypes[r.Vulnerability][assetType[r.Asset]] = true
	}
	for _, it := range vulns {
		v := Vulnerability{Code: it.code, UUID: c.uuid("vulnerability", it.uuid), MonarcUUID: it.uuid,
			Labels: tx[it].labels, Descriptions: tx[it].descs}
		for _, i := range sortedInts(vThreats[it.uuid]) {
			v.Threats = append(v.Threats, doc.Threats[i].Code)
		}
		for t := range vTypes[it.uuid] {
			v.AssetTypes = append(v.AssetTypes, t)
		}
		sort.Slice(v.AssetTypes, func(i, j int) bool { return typeOrder[v.AssetTypes[i]] < typeOrder[v.AssetTypes[j]] })
		doc.Vulnerabilities = append(doc.Vulnerabilities, v)
	}

	c.measures(doc)

	doc.Descriptions = Text{"en": fmt.Sprintf("The MONARC open knowledge base (monarc-project/monarc-objects) "+
		"as imported by nisduc: %d threats, %d vulnerabilities linked to their threats and asset types "+
		"through MONARC's risk triplets, %d assets and %d measures. MONARC's threat themes are the threat "+
		"types. Threats and vulnerabilities keep their MONARC UUID in monarc_uuid; elements whose MONARC UUID "+
		"is not a version-4 UUID get a uuid derived from it, the same on every import. Assets are typed "+
		"from their MONARC code (BAT site, LOG software, MAT hardware, PER personnel, RESEAU network, SYS "+
		"system, ORG_EXT outsourced service) and MONARC's primary assets are typed system.",
		len(doc.Threats), len(doc.Vulnerabilities), len(doc.Assets), len(doc.Measures))}
	SortProblems(c.problems)
	return doc, c.problems
}

// langOf is the language of an item's main file.
func langOf(it *monarcItem) string {
	if _, ok := it.files["en"]; ok {
		return "en"
	}
	for _, lang := range append(monarcLanguages[1:], sortedKeys(it.files)...) {
		if _, ok := it.files[lang]; ok {
			return lang
		}
	}
	return ""
}

func sortedInts(m map[int]bool) []int {
	out := make([]int, 0, len(m))
	for i := range m {
		out = append(out, i)
	}
	sort.Ints(out)
	return out
}

// monarcReferential is a file of referentials/.
type monarcReferential struct {
	UUID     string `json:"uuid"`
	Label    string `json:"label"`
	Language string `json:"language"`
	Values   []struct {
		UUID     string `json:"uuid"`
		Code     string `json:"code"`
		Label    string `json:"label"`
		Category string `json:"category"`
	} `json:"values"`
}

// monarcMeasure is one measure being built, with its referential's key.
type monarcMeasure struct {
	key  string // the referential's reference key
	code string // the measure's code in its referential
	file string // the referential file it was first read from
	m    *Measure
}

// measures reads referentials/ and referentials-mapping/ into doc.Measures.
func (c *monarcConverter) measures(doc *Document) {
	byUUID := map[string]*monarcMeasure{}
	var order []*monarcMeasure
	taken := map[string]bool{}
	for _, name := range c.jsonFiles("referentials", false) {
		data := c.read(name)
		if data == nil {
			continue
		}
		var r monarcReferential
		if err := json.Unmarshal(data, &r); err != nil {
			c.fail(name, "not a MONARC referential: %v", jsonError(err))
			continue
		}
		label := cleanText(r.Label)
		key := referentialKey(label)
		if key == "" {
			c.fail(name, "the referential has no label; it is left out")
			continue
		}
		lang := strings.ToLower(strings.TrimSpace(r.Language))
		if !isLang(lang) {
			lang = "en"
		}
		for i, v := range r.Values {
			u := strings.ToLower(strings.TrimSpace(v.UUID))
			if !uuidRE.MatchString(u) {
				c.fail(name, "values[%d]: uuid %q is not a UUID; the measure is left out", i, v.UUID)
				continue
			}
			mc, text := cleanText(v.Code), cleanText(v.Label)
			mm := byUUID[u]
			if mm == nil {
				code := key + "-" + slug(mc, 60)
				if slug(mc, 60) == "" {
					code = key + "-" + u[:8]
				}
				if taken[code] {
					code += "-" + u[:8]
				}
				taken[code] = true
				mm = &monarcMeasure{key: key, code: mc, file: name, m: &Measure{Code: code, UUID: c.uuid("measure", u), Labels: Text{}}}
				if mc != "" {
					mm.m.References = map[string][]string{key: {mc}}
				}
				byUUID[u] = mm
				order = append(order, mm)
			}
			if text == "" {
				text = mc
			}
			if text != "" {
				mm.m.Labels[lang] = text
			}
			if cat := cleanText(v.Category); cat != "" {
				if mm.m.Descriptions == nil {
					mm.m.Descriptions = Text{}
				}
				mm.m.Descriptions[lang] = fmt.Sprintf("%s %s (%s)", label, mc, cat)
			}
		}
	}
	for _, mm := range order {
		if mm.m.Labels["en"] != "" {
			continue
		}
		for _, lang := range append(monarcLanguages[1:], sortedKeys(mm.m.Labels)...) {
			if s := mm.m.Labels[lang]; s != "" {
				mm.m.Labels["en"] = s
				c.fail(mm.file, "measure %s has no English label; the %s label is used", mm.m.UUID, strings.ToUpper(lang))
				break
			}
		}
		if mm.m.Labels["en"] == "" {
			mm.m.Labels["en"] = mm.m.Code
			c.fail(mm.file, "measure %s has no label; %q is used", mm.m.UUID, mm.m.Code)
		}
	}

	for _, name := range c.jsonFiles("referentials-mapping", false) {
		data := c.read(name)
		if data == nil {
			continue
		}
		var mp struct {
			Label  string `json:"label"`
			Values []struct {
				Control string `json:"control"`
				Match   string `json:"match"`
			} `json:"values"`
		}
		if err := json.Unmarshal(data, &mp); err != nil {
			c.fail(name, "not a MONARC referential mapping: %v", jsonError(err))
			continue
		}
		// "NIS security measures - ISO/IEC 27002": controls of the first,
		// matches of the second.
		first, second, _ := strings.Cut(cleanText(mp.Label), " - ")
		for i, v := range mp.Values {
			ctl, match := byUUID[strings.ToLower(v.Control)], byUUID[strings.ToLower(v.Match)]
			switch {
			case ctl != nil && match != nil:
				addRef(ctl.m, match.key, match.code)
				addRef(match.m, ctl.key, ctl.code)
			case ctl != nil:
				addRef(ctl.m, referentialKey(second), strings.ToLower(v.Match))
			case match != nil:
				addRef(match.m, referentialKey(first), strings.ToLower(v.Control))
			default:
				c.fail(name, "values[%d]: neither %q nor %q is a measure of referentials/; left out", i, v.Control, v.Match)
			}
		}
	}
	for _, mm := range order {
		for k, refs := range mm.m.References {
			sort.Strings(refs)
			mm.m.References[k] = slices.Compact(refs)
		}
		doc.Measures = append(doc.Measures, *mm.m)
	}
}

// referentialKey is the reference key of a referential, from its label.
func referentialKey(label string) string {
	if k, ok := monarcReferentialKeys[strings.ToLower(cleanText(label))]; ok {
		return k
	}
	k := slug(label, 40)
	if k != "" && (k[0] < 'a' || k[0] > 'z') {
		k = "ref-" + k
	}
	if k == "" {
		k = "other"
	}
	return k
}

func addRef(m *Measure, key, code string) {
	if key == "" || code == "" {
		return
	}
	if m.References == nil {
		m.References = map[string][]string{}
	}
	m.References[key] = append(m.References[key], code)
}

// DocumentLanguages lists the languages of the labels of a document's
// elements (threats, vulnerabilities, assets, measures), sorted.
func DocumentLanguages(d *Document) []string {
	seen := map[string]bool{}
	add := func(t Text) {
		for l := range t {
			seen[l] = true
		}
	}
	for _, x := range d.Threats {
		add(x.Labels)
	}
	for _, x := range d.Vulnerabilities {
		add(x.Labels)
	}
	for _, x := range d.Assets {
		add(x.Labels)
	}
	for _, x := range d.Measures {
		add(x.Labels)
	}
	return sortedKeys(seen)
}
