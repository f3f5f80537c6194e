package audit

import (
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/nisduc/nisduc/internal/errs"
)

func TestCanonicalDetails(t *testing.T) {
	type point struct {
		Y int `json:"y"`
		X int `json:"x"`
	}
	tests := []struct {
		name string
		in   map[string]any
		want string
	}{
		{"nil", nil, `{}`},
		{"empty", map[string]any{}, `{}`},
		{"sorted keys", map[string]any{"b": 1, "a": "x", "c": true}, `{"a":"x","b":1,"c":true}`},
		{"nested struct becomes sorted object", map[string]any{"p": point{Y: 2, X: 1}}, `{"p":{"x":1,"y":2}}`},
		{"numbers kept as written", map[string]any{"n": 1.5, "big": int64(1 << 60)}, `{"big":1152921504606846976,"n":1.5}`},
		{"unicode kept", map[string]any{"name": "Société générale — Zürich"}, `{"name":"Société générale — Zürich"}`},
		{"secrets redacted at any depth", map[string]any{
			"password": "hunter2", "user": map[string]any{"totp_secret": "ABC", "email": "a@b"},
			"list":  []any{map[string]any{"api_key": "k", "session_token": "t"}},
			"token": "x",
		}, `{"list":[{"api_key":"[redacted]","session_token":"[redacted]"}],"password":"[redacted]","token":"[redacted]","user":{"email":"a@b","totp_secret":"[redacted]"}}`},
		{"token-like names that are not secrets stay", map[string]any{"token_id": "abc", "tokens": 3}, `{"token_id":"abc","tokens":3}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := canonicalDetails(tt.in)
			if err != nil {
				t.Fatal(err)
			}
			if got != tt.want {
				t.Errorf("got  %s\nwant %s", got, tt.want)
			}
			if !json.Valid([]byte(got)) {
				t.Errorf("not JSON: %s", got)
			}
		})
	}
	_, err := canonicalDetails(map[string]any{"ch": make(chan int)})
	if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), "details") {
		t.Errorf("unencodable details: got %v, want Invalid naming details", err)
	}
}

func TestEntryHashCoversEveryField(t *testing.T) {
	base := Record{
		Seq: 7, ID: "6f1c2f43-52fb-4f6e-9e0b-1f0e6c1b7a10", At: time.Date(2025, 3, 4, 5, 6, 7, 123456000, time.UTC),
		ActorUserID: "u", ActorOrgID: "o", ActorName: "n", Addr: "192.0.2.1", OrgID: "org",
		Action: "org.edit", ObjectType: "organization", ObjectID: "obj", Details: `{"a":1}`, PrevHash: genesisHash,
	}
	x := newHasher()
	h0 := x.entryHash(&base)
	if len(h0) != 64 {
		t.Fatalf("hash %q is not 64 hex digits", h0)
	}
	if again := newHasher().entryHash(&base); again != h0 {
		t.Fatalf("hash not deterministic: %s vs %s", h0, again)
	}
	// The same instant in another zone hashes the same (stored as UTC).
	local := base
	local.At = base.At.In(time.FixedZone("CET", 3600))
	if x.entryHash(&local) != h0 {
		t.Error("hash depends on the time zone of an equal instant")
	}
	changes := []struct {
		name string
		f    func(r *Record)
	}{
		{"seq", func(r *Record) { r.Seq++ }},
		{"id", func(r *Record) { r.ID = "x" }},
		{"at", func(r *Record) { r.At = r.At.Add(time.Microsecond) }},
		{"actor user", func(r *Record) { r.ActorUserID = "v" }},
		{"actor org", func(r *Record) { r.ActorOrgID = "p" }},
		{"actor name", func(r *Record) { r.ActorName = "m" }},
		{"address", func(r *Record) { r.Addr = "192.0.2.2" }},
		{"org", func(r *Record) { r.OrgID = "other" }},
		{"action", func(r *Record) { r.Action = "org.delete" }},
		{"object type", func(r *Record) { r.ObjectType = "user" }},
		{"object id", func(r *Record) { r.ObjectID = "obj2" }},
		{"details", func(r *Record) { r.Details = `{"a":2}` }},
		{"prev hash", func(r *Record) { r.PrevHash = strings.Repeat("1", 64) }},
		// Length prefixes: moving bytes between adjacent fields changes the hash.
		{"field boundary", func(r *Record) { r.ActorUserID, r.ActorOrgID = "uo", "" }},
		{"trailing space", func(r *Record) { r.Action = "org.edit " }},
	}
	for _, c := range changes {
		r := base
		c.f(&r)
		if got := x.entryHash(&r); got == h0 {
			t.Errorf("changing %s does not change the hash", c.name)
		}
	}
	// The stored hash is the output, not an input.
	withHash := base
	withHash.Hash = "anything"
	if x.entryHash(&withHash) != h0 {
		t.Error("the stored hash field influences the computed hash")
	}
}

func TestMACs(t *testing.T) {
	k1 := []byte(strings.Repeat("k", 32))
	k2 := []byte(strings.Repeat("j", 32))
	at := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	h := strings.Repeat("a", 64)
	tests := []struct {
		name string
		a, b string
	}{
		{"keys differ", headMAC(k1, 1, h), headMAC(k2, 1, h)},
		{"seq differs", headMAC(k1, 1, h), headMAC(k1, 2, h)},
		{"hash differs", headMAC(k1, 1, h), headMAC(k1, 1, strings.Repeat("b", 64))},
		{"head vs checkpoint", headMAC(k1, 1, h), checkpointMAC(k1, 1, h, at)},
		{"checkpoint time", checkpointMAC(k1, 1, h, at), checkpointMAC(k1, 1, h, at.Add(time.Second))},
	}
	for _, tt := range tests {
		if tt.a == tt.b {
			t.Errorf("%s: MACs are equal", tt.name)
		}
	}
	if !macEqual(headMAC(k1, 5, h), headMAC(k1, 5, h)) {
		t.Error("equal inputs give different MACs")
	}
}
