package browsertest

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

func TestMain(m *testing.M) {
	code := m.Run()
	Close()
	os.Exit(code)
}

// The shared browser renders a page and isolates cookies between contexts.
func TestSharedBrowserIsolatesCookies(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/set" {
			http.SetCookie(w, &http.Cookie{Name: "who", Value: "first", Path: "/"})
		}
		c, _ := r.Cookie("who")
		v := "none"
		if c != nil {
			v = c.Value
		}
		fmt.Fprintf(w, `<!doctype html><title>t</title><p id="who">%s</p>`, v)
	}))
	defer srv.Close()
	first := Context(t, 30*time.Second)
	if err := chromedp.Do(first, chromedp.Navigate(srv.URL+"/set"), chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	got, err := chromedp.Run(first, chromedp.Text("#who"))
	if err != nil || got != "first" {
		t.Fatalf("first context sees %q, %v; want its cookie", got, err)
	}
	second := Context(t, 30*time.Second)
	if err := chromedp.Do(second, chromedp.Navigate(srv.URL+"/")); err != nil {
		t.Fatal(err)
	}
	got, err = chromedp.Run(second, chromedp.Text("#who"))
	if err != nil || got != "none" {
		t.Fatalf("second context sees %q, %v; want no cookie from the first", got, err)
	}
}
