package audit

import (
	"bytes"
	"encoding/base64"
	"encoding/hex"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/nisduc/nisduc/internal/errs"
)

func TestKeyFromSecret(t *testing.T) {
	raw := bytes.Repeat([]byte{0xab, 0x01, 0xfe}, 11) // 33 bytes
	tests := []struct {
		name    string
		in      string
		want    []byte
		wantErr string // catalogue key of the field error
	}{
		{"hex", hex.EncodeToString(raw), raw, ""},
		{"hex upper case with spaces around", "  " + strings.ToUpper(hex.EncodeToString(raw)) + "\n", raw, ""},
		{"base64 std", base64.StdEncoding.EncodeToString(raw), raw, ""},
		{"base64 url", base64.URLEncoding.EncodeToString(raw), raw, ""},
		{"base64 raw", base64.RawStdEncoding.EncodeToString(raw[:32]), raw[:32], ""},
		{"empty", "", nil, "audit.err.key_empty"},
		{"blank", " \t\n", nil, "audit.err.key_empty"},
		{"too short hex", hex.EncodeToString(raw[:31]), nil, "audit.err.key_short"},
		{"too short base64", base64.StdEncoding.EncodeToString(raw[:16]), nil, "audit.err.key_short"},
		{"neither", "this is not a key!", nil, "audit.err.key_encoding"},
		{"odd hex", hex.EncodeToString(raw)[:65], nil, "audit.err.key_encoding"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := KeyFromSecret(tt.in)
			if tt.wantErr != "" {
				e := errs.As(err)
				if e.Code != errs.Invalid || len(e.Fields) != 1 || e.Fields[0].Field != "audit_key" || e.Fields[0].Key != tt.wantErr {
					t.Fatalf("got %v (%+v), want Invalid audit_key %s", err, e.Fields, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, tt.want) {
				t.Errorf("got %x, want %x", got, tt.want)
			}
		})
	}
}

func FuzzKeyFromSecret(f *testing.F) {
	for _, s := range []string{"", "00", strings.Repeat("ab", 32), base64.StdEncoding.EncodeToString(make([]byte, 40)), "zz==", "\x00\xff", "====", strings.Repeat("A", 43)} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		key, err := KeyFromSecret(s)
		if err != nil {
			if !errs.Is(err, errs.Invalid) {
				t.Fatalf("error %v is not Invalid", err)
			}
			return
		}
		if len(key) < MinKeyLen {
			t.Fatalf("accepted a %d-byte key", len(key))
		}
	})
}

func TestLoadOrCreateKey(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "data")
	k1, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(k1) != MinKeyLen {
		t.Fatalf("new key has %d bytes", len(k1))
	}
	fi, err := os.Stat(filepath.Join(dir, KeyFile))
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("key file mode %o, want 600", fi.Mode().Perm())
	}
	k2, err := LoadOrCreateKey(dir)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(k1, k2) {
		t.Error("second load returned another key")
	}
	// The file is in the form KeyFromSecret reads.
	b, _ := os.ReadFile(filepath.Join(dir, KeyFile))
	if k3, err := KeyFromSecret(string(b)); err != nil || !bytes.Equal(k3, k1) {
		t.Errorf("key file not readable as a secret: %v", err)
	}
	if other, _ := LoadOrCreateKey(t.TempDir()); bytes.Equal(other, k1) {
		t.Error("two folders got the same key")
	}
}

func TestLoadOrCreateKeyConcurrent(t *testing.T) {
	dir := t.TempDir()
	keys := make([][]byte, 8)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := LoadOrCreateKey(dir)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	for i := range keys {
		if !bytes.Equal(keys[i], keys[0]) {
			t.Fatalf("process %d got a different key", i)
		}
	}
}

func TestLoadOrCreateKeyRefuses(t *testing.T) {
	tests := []struct {
		name    string
		content string
		mode    os.FileMode
		want    string
	}{
		{"readable by others", strings.Repeat("ab", 32), 0o644, "chmod 600"},
		{"garbage", "not a key", 0o600, "hex or base64"},
		{"short", strings.Repeat("ab", 8), 0o600, "at least 32 bytes"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			p := filepath.Join(dir, KeyFile)
			if err := os.WriteFile(p, []byte(tt.content), tt.mode); err != nil {
				t.Fatal(err)
			}
			os.Chmod(p, tt.mode)
			_, err := LoadOrCreateKey(dir)
			if !errs.Is(err, errs.Invalid) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("got %v, want Invalid mentioning %q", err, tt.want)
			}
			// The bad file is left alone, not replaced by a new key.
			if b, _ := os.ReadFile(p); string(b) != tt.content {
				t.Error("the existing key file was replaced")
			}
		})
	}
	if _, err := LoadOrCreateKey(""); !errs.Is(err, errs.Invalid) {
		t.Errorf("empty folder: got %v, want Invalid", err)
	}
}
