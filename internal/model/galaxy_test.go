package model

import (
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/nisduc/nisduc/internal/directory"
)

// galaxyRefData returns the path of ../shared/data/<rel>, skipping the test
// when the folder is absent (a user's fresh clone) and failing in CI.
func galaxyRefData(t *testing.T, rel string) string {
	t.Helper()
	p := filepath.Join("..", "..", "..", "shared", "data", rel)
	if _, err := os.Stat(p); err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatalf("reference data %s missing in CI: %v", p, err)
		}
		t.Skipf("reference data %s not here (it sits beside the checkout in CI)", p)
	}
	return p
}

// The sector → MISP galaxy facts match the real galaxy, and name only
// sectors of the directory.
func TestSectorGalaxyMatchesMISP(t *testing.T) {
	b, err := os.ReadFile(galaxyRefData(t, "misp-galaxy/clusters/sector.json"))
	if err != nil {
		t.Fatal(err)
	}
	var cluster struct {
		Values []struct{ UUID, Value string } `json:"values"`
	}
	if err := json.Unmarshal(b, &cluster); err != nil {
		t.Fatal(err)
	}
	byUUID := map[string]string{}
	for _, v := range cluster.Values {
		byUUID[v.UUID] = v.Value
	}
	all, err := SectorGalaxies()
	if err != nil || len(all) < 20 {
		t.Fatalf("mapping: %d entries, %v", len(all), err)
	}
	for _, g := range all {
		if _, ok := directory.SectorByCode(g.Sector); !ok {
			t.Errorf("%s: not a directory sector", g.Sector)
		}
		if v, ok := byUUID[g.UUID]; !ok || v != g.Value {
			t.Errorf("%s: cluster %s %q, MISP has %q", g.Sector, g.UUID, g.Value, v)
		}
	}
	if g, ok := SectorGalaxyOf("energy/electricity"); !ok || g.Value != "Electric" {
		t.Errorf("energy/electricity → %+v", g)
	}
	if g, ok := SectorGalaxyOf("transport/road"); !ok || g.Value != "Transport" {
		t.Errorf("a sub-sector without its own cluster falls back to its sector: %+v %v", g, ok)
	}
}
