// Package i18n is nisduc's message catalogue. Every string a user sees goes
// through T with a key; the catalogues for English, French, German and Dutch
// live as JSON files in catalog/<lang>/<area>.json (one file per area, so
// that each capability owns its strings) and must stay complete: a test fails
// when a key is missing in any language.
package i18n

import (
	"embed"
	"encoding/json"
	"fmt"
	"io/fs"
	"path"
	"slices"
	"strings"
	"sync"
)

// Languages lists the supported languages, the first being the fallback.
var Languages = []string{"en", "fr", "de", "nl"}

// Names gives each language's name in itself.
var Names = map[string]string{"en": "English", "fr": "Français", "de": "Deutsch", "nl": "Nederlands"}

//go:embed catalog
var files embed.FS

var (
	once     sync.Once
	catalogs map[string]map[string]string
	loadErr  error
)

func load() {
	catalogs = map[string]map[string]string{}
	for _, lang := range Languages {
		m := map[string]string{}
		entries, err := fs.ReadDir(files, "catalog/"+lang)
		if err != nil {
			loadErr = fmt.Errorf("catalog %s: %w", lang, err)
			return
		}
		for _, e := range entries {
			if !strings.HasSuffix(e.Name(), ".json") {
				continue
			}
			b, err := files.ReadFile(path.Join("catalog", lang, e.Name()))
			if err != nil {
				loadErr = err
				return
			}
			var part map[string]string
			if err := json.Unmarshal(b, &part); err != nil {
				loadErr = fmt.Errorf("catalog/%s/%s: %w", lang, e.Name(), err)
				return
			}
			for k, v := range part {
				if _, dup := m[k]; dup {
					loadErr = fmt.Errorf("catalog/%s/%s: key %q defined twice", lang, e.Name(), k)
					return
				}
				m[k] = v
			}
		}
		catalogs[lang] = m
	}
}

// Catalog returns the messages of lang (for tests and tools).
func Catalog(lang string) (map[string]string, error) {
	once.Do(load)
	if loadErr != nil {
		return nil, loadErr
	}
	return catalogs[lang], nil
}

// Supported returns lang if supported, else the fallback "en".
func Supported(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i > 0 {
		lang = lang[:i]
	}
	if slices.Contains(Languages, lang) {
		return lang
	}
	return Languages[0]
}

// T returns the message for key in lang, formatted with args (fmt verbs;
// translations may reorder them with %[n]s). A key missing everywhere is
// shown as itself, so it is visible, and the catalogue test catches it.
func T(lang, key string, args ...any) string {
	once.Do(load)
	msg, ok := catalogs[Supported(lang)][key]
	if !ok {
		msg, ok = catalogs["en"][key]
	}
	if !ok {
		return key
	}
	if len(args) == 0 {
		return msg
	}
	return fmt.Sprintf(msg, args...)
}

// Has reports whether key exists in the English catalogue.
func Has(key string) bool {
	once.Do(load)
	_, ok := catalogs["en"][key]
	return ok
}

// FromAcceptLanguage picks the best supported language from an
// Accept-Language header (weights are honoured by order of appearance,
// which is how browsers send them).
func FromAcceptLanguage(h string) string {
	for _, part := range strings.Split(h, ",") {
		tag := strings.TrimSpace(strings.SplitN(part, ";", 2)[0])
		if tag == "" {
			continue
		}
		if l := Supported(tag); l != "en" || strings.HasPrefix(strings.ToLower(tag), "en") {
			return l
		}
	}
	return "en"
}
