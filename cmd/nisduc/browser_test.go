package main

import (
	"context"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/nisduc/nisduc/internal/browsertest"
	"github.com/nisduc/nisduc/internal/demo"
)

// A new user's first journey, in a real browser against `nisduc serve
// --demo`: sign in as a demo operator, see the dashboard, open the
// directory, try a foreign operator's page and be refused.
func TestBrowserOperatorJourney(t *testing.T) {
	ctx := browsertest.Context(t, 90*time.Second)
	dataDir := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := cli(t, "", "demo", "--data", dataDir); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	creds, err := demo.ReadCredentials(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	_, out, _ := cli(t, "", "org", "list", "--kind", "OES", "--format", "json", "--data", dataDir)
	var oes []struct {
		ID        string `json:"id"`
		ShortName string `json:"short_name"`
		Name      string `json:"name"`
	}
	if err := json.Unmarshal([]byte(out), &oes); err != nil || len(oes) < 2 {
		t.Fatalf("operators: %v\n%s", err, out)
	}
	// The operator administrator of the first operator, and another operator.
	var me demo.Credential
	var mine, foreign = oes[0], oes[1]
	for _, c := range creds.Users {
		if c.Org == mine.ShortName && strings.Contains(strings.Join(rolesOf(c), ","), "operator_admin") {
			me = c
		}
	}
	if me.Email == "" {
		t.Fatalf("no operator admin for %s in the demo credentials", mine.ShortName)
	}
	base, _ := startServe(t, "--demo", "--data", dataDir)

	signIn(t, ctx, base+"/", me)
	h1, err := chromedp.Run(ctx, chromedp.Text("h1"))
	if err != nil || !strings.Contains(h1, "Welcome") {
		t.Fatalf("dashboard heading %q, %v", h1, err)
	}
	body, _ := chromedp.Run(ctx, chromedp.Text("main"))
	if !strings.Contains(body, mine.Name) || !strings.Contains(body, "Welcome to nisduc") {
		t.Fatalf("dashboard does not show the user's organisation %q and the welcome message:\n%s", mine.Name, body)
	}
	browsertest.Screenshot(t, ctx, "operator-dashboard")

	// The directory: own organisation and the authorities, no other operator.
	if err := chromedp.Do(ctx, chromedp.Click(`nav a[href="/orgs"]`), chromedp.WaitVisible("table")); err != nil {
		t.Fatalf("directory: %v", err)
	}
	table, _ := chromedp.Run(ctx, chromedp.Text("table"))
	if !strings.Contains(table, mine.ShortName) || strings.Contains(table, foreign.ShortName) {
		t.Fatalf("directory as operator: want %s and not %s:\n%s", mine.ShortName, foreign.ShortName, table)
	}
	browsertest.Screenshot(t, ctx, "operator-directory")

	// A foreign operator's page, typed in the address bar: refused.
	if err := chromedp.Do(ctx, chromedp.Navigate(base+"/orgs/"+foreign.ID), chromedp.WaitVisible("h1")); err != nil {
		t.Fatalf("foreign org: %v", err)
	}
	h1, _ = chromedp.Run(ctx, chromedp.Text("h1"))
	text, _ := chromedp.Run(ctx, chromedp.Text("main"))
	if !strings.Contains(h1, "403") || strings.Contains(text, foreign.Name) {
		t.Fatalf("foreign operator page: heading %q; it must refuse and not show %q", h1, foreign.Name)
	}
	browsertest.Screenshot(t, ctx, "operator-foreign-refused")
}

func rolesOf(c demo.Credential) []string {
	out := make([]string, len(c.Roles))
	for i, r := range c.Roles {
		out[i] = string(r)
	}
	return out
}

// An authority analyst's journey through the models: browse the NIS
// regulatory model and its impact matrix, make a draft, break it and see
// the line named, fix it, save, and publish the new version.
func TestBrowserModelEditorJourney(t *testing.T) {
	ctx := browsertest.Context(t, 120*time.Second)
	dataDir := filepath.Join(t.TempDir(), "data")
	if code, _, errOut := cli(t, "", "demo", "--data", dataDir); code != 0 {
		t.Fatalf("demo: %s", errOut)
	}
	creds, err := demo.ReadCredentials(dataDir)
	if err != nil {
		t.Fatal(err)
	}
	var analyst demo.Credential
	for _, c := range creds.Users {
		if strings.Join(rolesOf(c), ",") == "authority_analyst" && len(c.Sectors) == 0 {
			analyst = c
			break
		}
	}
	if analyst.Email == "" {
		t.Fatal("no unrestricted authority analyst in the demo")
	}
	base, _ := startServe(t, "--demo", "--data", dataDir)
	signIn(t, ctx, base+"/login", analyst)
	if err := chromedp.Do(ctx,
		chromedp.Click(`nav a[href="/models"]`),
		chromedp.WaitVisible(`a[href="/models/nis"]`),
		chromedp.Click(`a[href="/models/nis"]`),
		chromedp.WaitVisible("table.matrix"),
	); err != nil {
		t.Fatalf("browse to the NIS model: %v", err)
	}
	matrix, _ := chromedp.Run(ctx, chromedp.Text("table.matrix"))
	if !strings.Contains(matrix, "Very high") {
		t.Fatalf("impact matrix:\n%s", matrix)
	}
	browsertest.Screenshot(t, ctx, "analyst-nis-model")

	// A draft, broken on purpose: the problem names its line.
	if err := chromedp.Do(ctx,
		chromedp.Click(`form[action="/models/nis/drafts"] button`),
		chromedp.WaitVisible("#yaml"),
	); err != nil {
		t.Fatalf("create a draft: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Value("#yaml"))
	if err != nil || !strings.Contains(text, "acceptance_threshold: medium") {
		t.Fatalf("draft text: %v\n%.400s", err, text)
	}
	broken := strings.Replace(text, "acceptance_threshold: medium", "acceptance_threshold: extreme", 1)
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#yaml", broken),
		chromedp.Click(`button[value="validate"]`),
		chromedp.WaitVisible(".errors"),
	); err != nil {
		t.Fatalf("validate: %v", err)
	}
	problems, _ := chromedp.Run(ctx, chromedp.Text(".errors"))
	if !strings.Contains(problems, "acceptance_threshold") || !strings.Contains(problems, "line") {
		t.Fatalf("the problem does not name the line and path:\n%s", problems)
	}
	browsertest.Screenshot(t, ctx, "analyst-model-problem")

	// Fixed, with a new description, saved and published.
	fixed := strings.Replace(text, "acceptance_threshold: medium", "acceptance_threshold: high", 1)
	if err := chromedp.Do(ctx,
		chromedp.SetValue("#yaml", fixed),
		chromedp.Click(`button[value="save"]`),
		chromedp.WaitVisible("#yaml"),
		chromedp.Navigate(base+"/models/nis/versions/2/publish"),
		chromedp.WaitVisible(`form[action="/models/nis/versions/2/publish"]`),
	); err != nil {
		t.Fatalf("save and open publish: %v", err)
	}
	diff, _ := chromedp.Run(ctx, chromedp.Text("main"))
	if !strings.Contains(diff, "acceptance_threshold") {
		t.Fatalf("the publish page does not show the change:\n%.600s", diff)
	}
	if err := chromedp.Do(ctx,
		chromedp.Click(`form[action="/models/nis/versions/2/publish"] button`),
		chromedp.WaitVisible("table.matrix"),
	); err != nil {
		t.Fatalf("publish: %v", err)
	}
	page, _ := chromedp.Run(ctx, chromedp.Text("main"))
	if !strings.Contains(page, "v2") {
		t.Fatalf("after publishing, the model page should show v2:\n%.800s", page)
	}
	// The CLI sees the same published version.
	_, out, _ := cli(t, "", "model", "export", "nis", "--data", dataDir)
	if !strings.Contains(out, "acceptance_threshold: high") {
		t.Fatalf("nisduc model export nis after publishing:\n%.300s", out)
	}
}

// signIn fills the sign-in form reached from url and waits until the
// header shows who is signed in.
func signIn(t *testing.T, ctx context.Context, url string, c demo.Credential) {
	t.Helper()
	if err := chromedp.Do(ctx,
		chromedp.Navigate(url),
		chromedp.WaitVisible("#email"),
		chromedp.SendKeys("#email", c.Email),
		chromedp.SendKeys("#password", c.Password),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("header .who"),
	); err != nil {
		browsertest.Screenshot(t, ctx, "sign-in-failed")
		t.Fatalf("sign in as %s: %v", c.Email, err)
	}
}
