package audit

import (
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"

	"github.com/nisduc/nisduc/internal/errs"
)

// KeyFile is the name of the key file in the data folder.
const KeyFile = "audit.key"

// LoadOrCreateKey returns the MAC key kept in dataDir/audit.key, creating
// the file (32 random bytes, written as hex, mode 0600) when it is missing.
// The file is in the same form KeyFromSecret reads, so it can be moved to a
// secret store as is.
//
// Errors: Invalid when dataDir is empty, the file is unreadable, holds no
// valid key, or can be read by other users (as ssh does with private keys:
// anyone who can read the key can forge checkpoints).
func LoadOrCreateKey(dataDir string) ([]byte, error) {
	if dataDir == "" {
		return nil, errs.Field("data", "no data folder for %s", KeyFile)
	}
	path := filepath.Join(dataDir, KeyFile)
	for range 2 {
		key, err := readKeyFile(path)
		if !errors.Is(err, fs.ErrNotExist) {
			return key, err
		}
		err = createKeyFile(dataDir, path)
		if err != nil && !errors.Is(err, fs.ErrExist) {
			return nil, err
		}
		// Created, or another process created it first: read it back.
	}
	return readKeyFile(path)
}

func readKeyFile(path string) ([]byte, error) {
	fi, err := os.Stat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, err
		}
		return nil, errs.E(errs.Invalid, "audit key %s: %v", path, err)
	}
	if runtime.GOOS != "windows" && fi.Mode().Perm()&0o077 != 0 {
		return nil, errs.E(errs.Invalid, "audit key %s is readable by other users (mode %o): run chmod 600 %s", path, fi.Mode().Perm(), path)
	}
	b, err := os.ReadFile(path)
	if err != nil {
		return nil, errs.E(errs.Invalid, "audit key %s: %v", path, err)
	}
	key, err := KeyFromSecret(string(b))
	if err != nil {
		return nil, errs.E(errs.Invalid, "audit key %s: %v", path, err)
	}
	return key, nil
}

// createKeyFile writes a new key to a temporary file and links it into
// place, so that a process starting at the same time never reads a
// half-written key, and an existing key is never replaced (os.Link fails
// with ErrExist).
func createKeyFile(dir, path string) error {
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return errs.E(errs.Invalid, "data folder %s: %v", dir, err)
	}
	key := make([]byte, MinKeyLen)
	if _, err := rand.Read(key); err != nil {
		return errs.Wrap(err, "audit key: random")
	}
	tmp, err := os.CreateTemp(dir, ".audit.key-*")
	if err != nil {
		return errs.E(errs.Invalid, "audit key: %v", err)
	}
	defer os.Remove(tmp.Name())
	if err := tmp.Chmod(0o600); err != nil && runtime.GOOS != "windows" {
		tmp.Close()
		return errs.E(errs.Invalid, "audit key: %v", err)
	}
	_, err = tmp.WriteString(hex.EncodeToString(key) + "\n")
	if err == nil {
		err = tmp.Sync()
	}
	if cerr := tmp.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return errs.E(errs.Invalid, "audit key: %v", err)
	}
	if err := os.Link(tmp.Name(), path); err != nil {
		if errors.Is(err, fs.ErrExist) {
			return err
		}
		return errs.E(errs.Invalid, "audit key %s: %v", path, err)
	}
	return nil
}

// KeyFromSecret decodes a key given by --audit-key or NISDUC_AUDIT_KEY: hex
// (tried first, so a hex key is never misread as base64) or base64
// (standard or URL alphabet, padded or not), at least 32 bytes once decoded.
//
// Errors: Invalid naming the field "audit_key".
func KeyFromSecret(s string) ([]byte, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, errs.FieldKey("audit_key", "audit.err.key_empty")
	}
	key, err := decodeSecret(s)
	if err != nil {
		return nil, errs.FieldKey("audit_key", "audit.err.key_encoding")
	}
	if len(key) < MinKeyLen {
		return nil, errs.FieldKey("audit_key", "audit.err.key_short", MinKeyLen, len(key))
	}
	return key, nil
}

func decodeSecret(s string) ([]byte, error) {
	if len(s)%2 == 0 && isHex(s) {
		return hex.DecodeString(s)
	}
	for _, enc := range []*base64.Encoding{base64.StdEncoding, base64.URLEncoding, base64.RawStdEncoding, base64.RawURLEncoding} {
		if b, err := enc.Strict().DecodeString(s); err == nil {
			return b, nil
		}
	}
	return nil, fmt.Errorf("neither hex nor base64")
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}
