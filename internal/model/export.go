package model

import (
	"bytes"
	"encoding/json"

	"go.yaml.in/yaml/v3"
)

// JSON returns the canonical JSON of d: fields in the order of
// docs/models.md, language maps sorted, empty lists left out, indented by
// two spaces. Two equal documents have byte-identical canonical JSON, which
// is what storage keeps and compares.
func (d *Document) JSON() []byte {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	_ = enc.Encode(d) // a Document always encodes
	return b.Bytes()
}

// YAML returns d as a YAML document (the format of the library).
func (d *Document) YAML() []byte {
	var b bytes.Buffer
	enc := yaml.NewEncoder(&b)
	enc.SetIndent(2)
	_ = enc.Encode(d)
	_ = enc.Close()
	return b.Bytes()
}

// Clone returns a deep copy of d (through its canonical JSON), keeping its
// file name but not its line index.
func (d *Document) Clone() *Document {
	var c Document
	_ = json.Unmarshal(d.JSON(), &c)
	c.file = d.file
	return &c
}
