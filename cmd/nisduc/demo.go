package main

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"strings"
	"text/tabwriter"

	"github.com/nisduc/nisduc/internal/demo"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/i18n"
	"github.com/nisduc/nisduc/internal/notify"
	"github.com/nisduc/nisduc/internal/store"
)

// ensureDemo loads the demo data into an empty store (wiping it first with
// reset) and prints the logins; on a store that already holds the demo it
// prints the logins kept in the data folder.
func ensureDemo(ctx context.Context, e *env, a *app, reset bool) error {
	if reset {
		if err := a.db.Wipe(ctx); err != nil {
			return err
		}
	}
	empty, err := a.db.IsEmpty(ctx)
	if err != nil {
		return err
	}
	var creds demo.Credentials
	if empty {
		creds, err = demo.Load(cliContext(ctx), a.db, a.audit, a.dir, a.flags.data)
		if err != nil {
			return err
		}
		if err := welcome(ctx, a); err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "Demo data loaded: %d users. Their passwords are random and kept in %s (mode 0600).\n",
			len(creds.Users), demoFile(a.flags.data))
	} else {
		creds, err = demo.ReadCredentials(a.flags.data)
		if errors.Is(err, fs.ErrNotExist) || errs.Is(err, errs.NotFound) {
			fmt.Fprintf(e.stdout, "This store already holds data, and %s has no demo logins: sign in with your own accounts\n(or start afresh with: nisduc demo --reset).\n", demoFile(a.flags.data))
			return nil
		}
		if err != nil {
			return err
		}
	}
	printLogins(e, creds)
	return nil
}

func demoFile(dataDir string) string { return absData(dataDir) + "/demo-credentials.json" }

func printLogins(e *env, creds demo.Credentials) {
	fmt.Fprintln(e.stdout, "\nDemo logins (no second factor is asked in demo mode):")
	tw := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  E-MAIL\tPASSWORD\tORGANISATION\tROLES")
	for _, c := range creds.Users {
		roles := make([]string, len(c.Roles))
		for i, r := range c.Roles {
			roles[i] = string(r)
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", c.Email, c.Password, c.Org, strings.Join(roles, ","))
	}
	tw.Flush()
	fmt.Fprintln(e.stdout)
}

// welcome puts a first message in every demo user's inbox, in their
// language, so that a newcomer sees the inbox at work.
func welcome(ctx context.Context, a *app) error {
	users, err := a.dir.ListAllUsers(cliContext(ctx), directory.UserFilter{})
	if err != nil {
		return err
	}
	inbox := notify.New(a.db, notify.Config{})
	return a.db.Update(ctx, func(tx *store.Tx) error {
		for _, u := range users {
			m := notify.Message{UserID: u.ID, Kind: "platform.welcome", Link: "/",
				Subject: i18n.T(u.Language, "cli.welcome.subject", u.Name), Body: i18n.T(u.Language, "cli.welcome.body")}
			if err := inbox.Send(ctx, tx, m); err != nil {
				return err
			}
		}
		return nil
	})
}
