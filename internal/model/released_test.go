package model

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"sort"
	"strings"
	"testing"
)

// A published built-in version is immutable: once a (code, version) ships,
// its content may not change — a change needs a version bump, or every
// store that already synced it would refuse to start. The fingerprints of
// the shipped versions are kept in testdata/builtins.sha256; go test
// -update adds new versions (and must not be used to hide a changed one).
func TestBuiltinVersionsAreImmutable(t *testing.T) {
	set, ps := Builtins()
	if len(ps) > 0 {
		t.Fatalf("built-ins have problems: %v", ps)
	}
	got := map[string]string{}
	for _, d := range set.Docs() {
		sum := sha256.Sum256(d.JSON())
		got[fmt.Sprintf("%s@%d", d.Code, d.Version)] = hex.EncodeToString(sum[:])
	}
	const path = "testdata/builtins.sha256"
	want := map[string]string{}
	if b, err := os.ReadFile(path); err == nil {
		for _, line := range strings.Split(strings.TrimSpace(string(b)), "\n") {
			if f := strings.Fields(line); len(f) == 2 {
				want[f[0]] = f[1]
			}
		}
	}
	for id, sum := range got {
		if old, ok := want[id]; ok && old != sum {
			t.Errorf("built-in %s changed after it shipped: bump its version (and keep the old content's number out of use)", id)
		}
	}
	if *update {
		for id, sum := range got {
			if _, ok := want[id]; !ok {
				want[id] = sum
			}
		}
		var lines []string
		for id, sum := range want {
			lines = append(lines, id+" "+sum)
		}
		sort.Strings(lines)
		if err := os.WriteFile(path, []byte(strings.Join(lines, "\n")+"\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	for id := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("built-in %s is not in %s: run go test ./internal/model -run BuiltinVersions -update", id, path)
		}
	}
}
