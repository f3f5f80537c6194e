// Package model is the engine of nisduc's regulatory and sector models: the
// three kinds of model document of docs/models.md (regulatory-model,
// knowledge-base, sector-model), their loader (YAML or JSON, every problem
// located by file, line and path), their JSON Schemas, the rules that tie a
// set of documents together, the built-in library embedded in the binary,
// and versioned storage (drafts, published versions, diff, import).
//
// Everything but Service is pure: no I/O, no database.
package model

import (
	"fmt"
	"strings"
)

// Kind is the kind of a model document.
type Kind string

const (
	KindRegulatory    Kind = "regulatory-model"
	KindKnowledgeBase Kind = "knowledge-base"
	KindSector        Kind = "sector-model"
)

// Kinds lists the document kinds.
var Kinds = []Kind{KindRegulatory, KindKnowledgeBase, KindSector}

// Valid reports whether k is a known kind.
func (k Kind) Valid() bool { return k == KindRegulatory || k == KindKnowledgeBase || k == KindSector }

// Text is a language map: language code → text ("en" is required in labels).
type Text = map[string]string

// Document is one model document. The envelope is common; the body fields of
// the other kinds stay empty.
type Document struct {
	Kind         Kind   `yaml:"kind" json:"kind"`
	Code         string `yaml:"code" json:"code"`
	UUID         string `yaml:"uuid" json:"uuid"`
	Version      int    `yaml:"version" json:"version"`
	Labels       Text   `yaml:"labels" json:"labels"`
	Descriptions Text   `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`

	// regulatory-model
	Regulation   string           `yaml:"regulation,omitempty" json:"regulation,omitempty"`
	Risk         *Risk            `yaml:"risk,omitempty" json:"risk,omitempty"`
	Submission   []SubmissionItem `yaml:"submission,omitempty" json:"submission,omitempty"`
	Notification *Notification    `yaml:"notification,omitempty" json:"notification,omitempty"`
	Significance []Significance   `yaml:"significance,omitempty" json:"significance,omitempty"`

	// knowledge-base
	AssetTypes      []TypeElement   `yaml:"asset_types,omitempty" json:"asset_types,omitempty"`
	Assets          []Asset         `yaml:"assets,omitempty" json:"assets,omitempty"` // also sector-model
	ThreatTypes     []TypeElement   `yaml:"threat_types,omitempty" json:"threat_types,omitempty"`
	Threats         []Threat        `yaml:"threats,omitempty" json:"threats,omitempty"`
	Vulnerabilities []Vulnerability `yaml:"vulnerabilities,omitempty" json:"vulnerabilities,omitempty"` // also sector-model
	Measures        []Measure       `yaml:"measures,omitempty" json:"measures,omitempty"`

	// sector-model
	Sector string `yaml:"sector,omitempty" json:"sector,omitempty"`
	// EntityTypes narrows a sector model to these directory entity types
	// (e.g. DNS service providers and TLD name registries share the sector
	// digital-infrastructure); empty = the whole sector.
	EntityTypes           []string                `yaml:"entity_types,omitempty" json:"entity_types,omitempty"`
	RegulatoryModel       string                  `yaml:"regulatory_model,omitempty" json:"regulatory_model,omitempty"`
	KnowledgeBase         string                  `yaml:"knowledge_base,omitempty" json:"knowledge_base,omitempty"`
	EssentialServices     []EssentialService      `yaml:"essential_services,omitempty" json:"essential_services,omitempty"`
	MandatoryThreats      []string                `yaml:"mandatory_threats,omitempty" json:"mandatory_threats,omitempty"`
	ThreatVulnerabilities []ThreatVulnerabilities `yaml:"threat_vulnerabilities,omitempty" json:"threat_vulnerabilities,omitempty"`
	Impact                *SectorImpact           `yaml:"impact,omitempty" json:"impact,omitempty"`

	// file names the source in problems; lines maps paths to source lines.
	file  string
	lines map[string]int
}

// File is the name the document was parsed under ("" when built in code).
func (d *Document) File() string { return d.file }

// Line returns the source line of path (or of its nearest located parent),
// 0 when unknown.
func (d *Document) Line(path string) int {
	if d == nil || d.lines == nil {
		return 0
	}
	for {
		if l, ok := d.lines[path]; ok {
			return l
		}
		if path == "" {
			return 0
		}
		path = parentPath(path)
	}
}

// parentPath drops the last step of a path ("a.b[2]" → "a.b" → "a" → "").
func parentPath(p string) string {
	i := strings.LastIndexAny(p, ".[")
	if i < 0 {
		return ""
	}
	return p[:i]
}

// Title is the English label, or the code.
func (d *Document) Title() string {
	if t := d.Labels["en"]; t != "" {
		return t
	}
	return d.Code
}

// ID is "code@version".
func (d *Document) ID() string { return fmt.Sprintf("%s@%d", d.Code, d.Version) }

// Level is one step of an ordered scale (likelihood, impact subscale,
// combined impact, risk). Code is required where matrices name the level.
type Level struct {
	Level        int    `yaml:"level" json:"level"`
	Code         string `yaml:"code,omitempty" json:"code,omitempty"`
	Labels       Text   `yaml:"labels,omitempty" json:"labels,omitempty"`
	Definitions  Text   `yaml:"definitions,omitempty" json:"definitions,omitempty"`
	Descriptions Text   `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
}

// Subscale is one impact criterion with its own scale.
type Subscale struct {
	Code         string  `yaml:"code" json:"code"`
	Labels       Text    `yaml:"labels" json:"labels"`
	Descriptions Text    `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
	Levels       []Level `yaml:"levels" json:"levels"`
}

// Matrix combines two scales into a third. Rows and Columns name subscales
// (impact matrices); the risk matrix has likelihood rows and impact columns.
type Matrix struct {
	Rows    string     `yaml:"rows,omitempty" json:"rows,omitempty"`
	Columns string     `yaml:"columns,omitempty" json:"columns,omitempty"`
	Cells   [][]string `yaml:"cells" json:"cells"`
}

// Impact is the regulatory impact method.
type Impact struct {
	Subscales []Subscale `yaml:"subscales" json:"subscales"`
	Levels    []Level    `yaml:"levels" json:"levels"`
	Matrix    *Matrix    `yaml:"matrix,omitempty" json:"matrix,omitempty"`
}

// Risk is the risk method of a regulatory model.
type Risk struct {
	Method              string   `yaml:"method" json:"method"`
	Descriptions        Text     `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
	Likelihood          []Level  `yaml:"likelihood" json:"likelihood"`
	Impact              *Impact  `yaml:"impact" json:"impact"`
	Levels              []Level  `yaml:"levels" json:"levels"`
	Matrix              *Matrix  `yaml:"matrix" json:"matrix"`
	AcceptanceThreshold string   `yaml:"acceptance_threshold" json:"acceptance_threshold"`
	TreatmentOptions    []string `yaml:"treatment_options" json:"treatment_options"`
}

// TreatmentOptions are the known treatment option codes.
var TreatmentOptions = []string{"reduce", "accept", "share", "avoid"}

// SubmissionItem is one part of an annual submission.
type SubmissionItem struct {
	Code         string `yaml:"code" json:"code"`
	Required     bool   `yaml:"required" json:"required"`
	Labels       Text   `yaml:"labels" json:"labels"`
	Descriptions Text   `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
}

// Notification holds the legal incident notification stages, in order.
type Notification struct {
	Stages []Stage `yaml:"stages" json:"stages"`
}

// Deadline is a stage's time limit; all zero means "without undue delay".
type Deadline struct {
	Hours  int `yaml:"hours,omitempty" json:"hours,omitempty"`
	Days   int `yaml:"days,omitempty" json:"days,omitempty"`
	Months int `yaml:"months,omitempty" json:"months,omitempty"`
}

// Stage is one incident notification stage.
type Stage struct {
	Code         string    `yaml:"code" json:"code"`
	Labels       Text      `yaml:"labels" json:"labels"`
	Deadline     *Deadline `yaml:"deadline,omitempty" json:"deadline,omitempty"`
	Trigger      string    `yaml:"trigger" json:"trigger"`
	Obligation   string    `yaml:"obligation" json:"obligation"`
	Recipients   []string  `yaml:"recipients" json:"recipients"`
	EntityTypes  []string  `yaml:"entity_types,omitempty" json:"entity_types,omitempty"`
	Descriptions Text      `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
}

// Significance is one significant-incident criterion (NIS2).
type Significance struct {
	Code         string      `yaml:"code" json:"code"`
	Labels       Text        `yaml:"labels" json:"labels"`
	Descriptions Text        `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
	EntityTypes  []string    `yaml:"entity_types,omitempty" json:"entity_types,omitempty"`
	AnyOf        []Condition `yaml:"any_of" json:"any_of"`
}

// Condition is "metric op value unit".
type Condition struct {
	Metric string  `yaml:"metric" json:"metric"`
	Op     string  `yaml:"op" json:"op"`
	Value  float64 `yaml:"value" json:"value"`
	Unit   string  `yaml:"unit,omitempty" json:"unit,omitempty"`
}

// TypeElement is an asset type or a threat type.
type TypeElement struct {
	Code         string `yaml:"code" json:"code"`
	Labels       Text   `yaml:"labels" json:"labels"`
	Descriptions Text   `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
}

// Asset is a supporting asset.
type Asset struct {
	Code string `yaml:"code" json:"code"`
	UUID string `yaml:"uuid" json:"uuid"`
	// MONARCUUID is the same asset in MONARC's knowledge base, so exports
	// are recognised by regulators whose tools run on MONARC.
	MONARCUUID   string `yaml:"monarc_uuid,omitempty" json:"monarc_uuid,omitempty"`
	Type         string `yaml:"type" json:"type"`
	Labels       Text   `yaml:"labels" json:"labels"`
	Descriptions Text   `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
}

// Threat is a catalogue threat.
type Threat struct {
	Code         string   `yaml:"code" json:"code"`
	UUID         string   `yaml:"uuid" json:"uuid"`
	MonarcUUID   string   `yaml:"monarc_uuid,omitempty" json:"monarc_uuid,omitempty"`
	Type         string   `yaml:"type" json:"type"`
	Criteria     []string `yaml:"criteria" json:"criteria"`
	Labels       Text     `yaml:"labels" json:"labels"`
	Descriptions Text     `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
}

// Vulnerability is a catalogue vulnerability.
type Vulnerability struct {
	Code         string   `yaml:"code" json:"code"`
	UUID         string   `yaml:"uuid" json:"uuid"`
	MonarcUUID   string   `yaml:"monarc_uuid,omitempty" json:"monarc_uuid,omitempty"`
	AssetTypes   []string `yaml:"asset_types,omitempty" json:"asset_types,omitempty"`
	Threats      []string `yaml:"threats,omitempty" json:"threats,omitempty"`
	Labels       Text     `yaml:"labels" json:"labels"`
	Descriptions Text     `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
}

// Measure is a security measure, with its codes in other referentials.
type Measure struct {
	Code         string              `yaml:"code" json:"code"`
	UUID         string              `yaml:"uuid" json:"uuid"`
	References   map[string][]string `yaml:"references,omitempty" json:"references,omitempty"`
	Labels       Text                `yaml:"labels" json:"labels"`
	Descriptions Text                `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
}

// EssentialService is a service of a sector, made of sub-services.
type EssentialService struct {
	Code         string       `yaml:"code" json:"code"`
	UUID         string       `yaml:"uuid" json:"uuid"`
	Labels       Text         `yaml:"labels" json:"labels"`
	Descriptions Text         `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
	SubServices  []SubService `yaml:"sub_services" json:"sub_services"`
}

// SubService is a business activity with its pre-selected supporting assets.
type SubService struct {
	Code             string   `yaml:"code" json:"code"`
	UUID             string   `yaml:"uuid" json:"uuid"`
	Labels           Text     `yaml:"labels" json:"labels"`
	Descriptions     Text     `yaml:"descriptions,omitempty" json:"descriptions,omitempty"`
	Assets           []string `yaml:"assets,omitempty" json:"assets,omitempty"`
	MandatoryThreats []string `yaml:"mandatory_threats,omitempty" json:"mandatory_threats,omitempty"`
}

// ThreatVulnerabilities lists the most relevant vulnerabilities of a threat.
type ThreatVulnerabilities struct {
	Threat          string   `yaml:"threat" json:"threat"`
	Vulnerabilities []string `yaml:"vulnerabilities" json:"vulnerabilities"`
}

// SectorImpact is a sector's wording (and optionally matrix) of the
// regulatory impact scales.
type SectorImpact struct {
	Subscales []Subscale `yaml:"subscales" json:"subscales"`
	Matrix    *Matrix    `yaml:"matrix,omitempty" json:"matrix,omitempty"`
}

// Problem is one thing wrong with a document, located as precisely as
// known: "file:line path: message".
type Problem struct {
	File    string `json:"file,omitempty"`
	Line    int    `json:"line,omitempty"`
	Path    string `json:"path"`
	Message string `json:"message"`
	// Key and Args are the catalogue entry of Message.
	Key  string `json:"-"`
	Args []any  `json:"-"`
}

func (p Problem) String() string {
	var b strings.Builder
	b.WriteString(p.File)
	if p.Line > 0 {
		fmt.Fprintf(&b, ":%d", p.Line)
	}
	if p.Path != "" {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(p.Path)
	}
	if b.Len() > 0 {
		b.WriteString(": ")
	}
	b.WriteString(p.Message)
	return b.String()
}
