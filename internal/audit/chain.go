package audit

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash"
	"strings"
	"time"

	"github.com/nisduc/nisduc/internal/errs"
)

// Chain arithmetic: pure functions over plain values, tested without a
// database. Hashes and MACs are stored as lower-case hex.

// genesisHash is the prev_hash of the first entry.
const genesisHash = "0000000000000000000000000000000000000000000000000000000000000000"

// Domain-separation tags: a value authenticated for one purpose can never be
// replayed as another (a checkpoint MAC as a head MAC, an entry hash of a
// future format as one of this format).
const (
	entryTag      = "nisduc.audit.entry.v1"
	headTag       = "nisduc.audit.head.v1"
	checkpointTag = "nisduc.audit.checkpoint.v1"
)

// hasher computes entry hashes, reusing its buffers so that Verify over
// millions of rows does not allocate per row.
type hasher struct {
	h   hash.Hash
	buf []byte
	sum [sha256.Size]byte
	out [2 * sha256.Size]byte
}

func newHasher() *hasher { return &hasher{h: sha256.New(), buf: make([]byte, 0, 512)} }

// field appends s with a 4-byte length prefix, so that no two different
// field lists encode to the same bytes ("ab","c" vs "a","bc").
func (x *hasher) field(s string) {
	x.buf = binary.BigEndian.AppendUint32(x.buf, uint32(len(s)))
	x.buf = append(x.buf, s...)
}

// entryHash returns hex(SHA-256(prev_hash ‖ canonical encoding of every
// stored field)). prevHash is the hex text stored in the row: hashing the
// text rather than its decoding means a malformed prev_hash still yields a
// mismatch rather than an error.
func (x *hasher) entryHash(r *Record) string {
	x.buf = x.buf[:0]
	x.field(entryTag)
	x.field(r.PrevHash)
	x.buf = binary.BigEndian.AppendUint64(x.buf, uint64(r.Seq))
	x.field(r.ID)
	x.field(formatTime(r.At))
	x.field(r.ActorUserID)
	x.field(r.ActorOrgID)
	x.field(r.ActorName)
	x.field(r.Addr)
	x.field(r.OrgID)
	x.field(r.Action)
	x.field(r.ObjectType)
	x.field(r.ObjectID)
	x.field(r.Details)
	x.h.Reset()
	x.h.Write(x.buf)
	x.h.Sum(x.sum[:0])
	hex.Encode(x.out[:], x.sum[:])
	return string(x.out[:])
}

// formatTime is the one text form of an entry's time that is hashed: UTC,
// RFC 3339 with as many fractional digits as needed. Both databases keep
// microseconds, and Record truncates to them, so the value read back formats
// identically.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// mac returns hex(HMAC-SHA256(key, tag ‖ seq ‖ hash [‖ at])).
func mac(key []byte, tag string, seq int64, hashHex string, at time.Time) string {
	m := hmac.New(sha256.New, key)
	var b []byte
	b = binary.BigEndian.AppendUint32(b, uint32(len(tag)))
	b = append(b, tag...)
	b = binary.BigEndian.AppendUint64(b, uint64(seq))
	b = binary.BigEndian.AppendUint32(b, uint32(len(hashHex)))
	b = append(b, hashHex...)
	if !at.IsZero() {
		b = append(b, formatTime(at)...)
	}
	m.Write(b)
	return hex.EncodeToString(m.Sum(nil))
}

// headMAC authenticates the chain head (seq, hash).
func headMAC(key []byte, seq int64, hashHex string) string {
	return mac(key, headTag, seq, hashHex, time.Time{})
}

// checkpointMAC authenticates a checkpoint (seq, hash, at): its time is
// covered too, so a checkpoint cannot be back-dated.
func checkpointMAC(key []byte, seq int64, hashHex string, at time.Time) string {
	return mac(key, checkpointTag, seq, hashHex, at)
}

// macEqual compares two hex MACs in constant time.
func macEqual(a, b string) bool { return hmac.Equal([]byte(a), []byte(b)) }

// redacted replaces the value of a details key that names a secret: the
// trail can never be corrected once written (that is its point), so a
// password passed by mistake must not land in it.
const redacted = "[redacted]"

func secretKey(k string) bool {
	k = strings.ToLower(k)
	return strings.Contains(k, "password") || strings.Contains(k, "secret") ||
		k == "token" || strings.HasSuffix(k, "_token") || k == "api_key"
}

// canonicalDetails returns the details as canonical JSON: object keys sorted
// at every depth, no insignificant space, numbers as written. The text is
// stored as is (TEXT on both databases: JSONB would reorder keys and drop
// duplicates, changing the hashed bytes) and hashed byte for byte.
func canonicalDetails(d map[string]any) (string, error) {
	if len(d) == 0 {
		return "{}", nil
	}
	// Round-trip through json so that structs, typed maps and json.Marshaler
	// values become plain maps and slices, which encoding/json writes with
	// sorted keys.
	raw, err := json.Marshal(d)
	if err != nil {
		return "", errs.Field("details", "cannot be encoded as JSON: %v", err)
	}
	dec := json.NewDecoder(strings.NewReader(string(raw)))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return "", errs.Field("details", "cannot be encoded as JSON: %v", err)
	}
	v = redact(v)
	out, err := json.Marshal(v)
	if err != nil {
		return "", errs.Field("details", "cannot be encoded as JSON: %v", err)
	}
	return string(out), nil
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if secretKey(k) {
				x[k] = redacted
				continue
			}
			x[k] = redact(val)
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}
