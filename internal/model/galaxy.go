package model

import (
	"sync"

	"go.yaml.in/yaml/v3"
)

// SectorGalaxy is the MISP "sector" galaxy cluster of a directory sector:
// events are tagged misp-galaxy:sector="<Value>", and UUID is the cluster's,
// stable across MISP instances. The mapping is a fact kept in
// library/sectors-misp.yaml, not read from MISP at run time.
type SectorGalaxy struct {
	Sector string `yaml:"sector" json:"sector"`
	Value  string `yaml:"misp_value" json:"misp_value"`
	UUID   string `yaml:"misp_uuid" json:"misp_uuid"`
}

var (
	galaxyOnce sync.Once
	galaxy     map[string]SectorGalaxy
	galaxyErr  error
)

// SectorGalaxyOf returns the MISP sector cluster of a sector or sub-sector
// code; a sub-sector without a cluster of its own falls back to its
// sector's. ok is false when neither has one.
func SectorGalaxyOf(code string) (SectorGalaxy, bool) {
	galaxyOnce.Do(loadGalaxy)
	if g, ok := galaxy[code]; ok {
		return g, true
	}
	for i := 0; i < len(code); i++ {
		if code[i] == '/' {
			g, ok := galaxy[code[:i]]
			return g, ok
		}
	}
	return SectorGalaxy{}, false
}

// SectorGalaxies returns the whole mapping (for tests and exports).
func SectorGalaxies() ([]SectorGalaxy, error) {
	galaxyOnce.Do(loadGalaxy)
	if galaxyErr != nil {
		return nil, galaxyErr
	}
	out := make([]SectorGalaxy, 0, len(galaxy))
	for _, g := range galaxy {
		out = append(out, g)
	}
	return out, nil
}

func loadGalaxy() {
	galaxy = map[string]SectorGalaxy{}
	b, err := libraryFS.ReadFile("library/sectors-misp.yaml")
	if err != nil {
		galaxyErr = err
		return
	}
	var list []SectorGalaxy
	if err := yaml.Unmarshal(b, &list); err != nil {
		galaxyErr = err
		return
	}
	for _, g := range list {
		galaxy[g.Sector] = g
	}
}
