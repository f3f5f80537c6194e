package i18n

import (
	"regexp"
	"sort"
	"strings"
	"testing"
)

// Every key exists in every language, with the same fmt verbs.
func TestCataloguesComplete(t *testing.T) {
	en, err := Catalog("en")
	if err != nil {
		t.Fatal(err)
	}
	if len(en) == 0 {
		t.Fatal("English catalogue is empty")
	}
	verbs := regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[vsdqfgtxX%]`)
	count := func(s string) []string {
		var out []string
		for _, m := range verbs.FindAllString(s, -1) {
			if m != "%%" {
				out = append(out, regexp.MustCompile(`\[\d+\]`).ReplaceAllString(m, ""))
			}
		}
		sort.Strings(out)
		return out
	}
	for _, lang := range Languages[1:] {
		c, err := Catalog(lang)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range en {
			tr, ok := c[k]
			if !ok {
				t.Errorf("%s: key %q missing", lang, k)
				continue
			}
			if strings.TrimSpace(tr) == "" {
				t.Errorf("%s: key %q is empty", lang, k)
			}
			if a, b := count(v), count(tr); strings.Join(a, ",") != strings.Join(b, ",") {
				t.Errorf("%s: key %q has verbs %v, English has %v", lang, k, b, a)
			}
		}
		for k := range c {
			if _, ok := en[k]; !ok {
				t.Errorf("%s: key %q is not in the English catalogue", lang, k)
			}
		}
	}
}

func TestLanguageChoice(t *testing.T) {
	tests := []struct{ in, want string }{
		{"fr-BE,fr;q=0.9,en;q=0.8", "fr"},
		{"de", "de"},
		{"nl-NL", "nl"},
		{"en-GB,fr", "en"},
		{"es,fr", "fr"},
		{"", "en"},
		{"xx", "en"},
	}
	for _, tt := range tests {
		if got := FromAcceptLanguage(tt.in); got != tt.want {
			t.Errorf("FromAcceptLanguage(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
	if got := Supported("DE_de"); got != "de" {
		t.Errorf("Supported(DE_de) = %q", got)
	}
}
