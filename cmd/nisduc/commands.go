package main

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
	"time"

	"golang.org/x/term"

	"github.com/nisduc/nisduc/internal/audit"
	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/authz"
	"github.com/nisduc/nisduc/internal/directory"
	"github.com/nisduc/nisduc/internal/errs"
)

// multiFlag collects a repeatable flag.
type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// output writes a listing as a table or as JSON (--format).
type output struct {
	format string
	w      io.Writer
}

func (o output) check() error {
	if o.format != "table" && o.format != "json" {
		return usagef("--format must be table or json, not %q", o.format)
	}
	return nil
}

func (o output) json(v any) error {
	enc := json.NewEncoder(o.w)
	enc.SetIndent("", "  ")
	return enc.Encode(v)
}

func (o output) table(header []string, rows [][]string) {
	tw := tabwriter.NewWriter(o.w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, strings.Join(header, "\t"))
	for _, r := range rows {
		fmt.Fprintln(tw, strings.Join(r, "\t"))
	}
	tw.Flush()
}

// begin parses a subcommand's flags (refusing positional arguments), checks
// --format when the command has one, and opens the store: the common start
// of every command that works on data. The caller closes a.db.
func begin(ctx context.Context, e *env, fs *flag.FlagSet, f *storeFlags, args []string, out *output) (*app, error) {
	pos, err := parseArgs(fs, args)
	if err != nil {
		return nil, err
	}
	if len(pos) > 0 {
		return nil, usagef("unexpected argument %q", pos[0])
	}
	if out != nil {
		if err := out.check(); err != nil {
			return nil, err
		}
	}
	return open(ctx, e, f, auth.Config{})
}

func cmdMigrate(ctx context.Context, e *env, args []string) error {
	var f storeFlags
	fs := newFlagSet(e, "migrate", "migrate [--data DIR | --db URL]")
	f.register(fs, e)
	if err := parse(fs, args); err != nil {
		return err
	}
	f.noMigrate = true
	a, err := open(ctx, e, &f, auth.Config{})
	if err != nil {
		return err
	}
	defer a.db.Close()
	if err := migrateAll(ctx, a.db); err != nil {
		return err
	}
	v, err := a.db.Version(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(e.stdout, "database %s is at schema version %d\n", a.db.Dialect, v)
	return nil
}

func cmdDemo(ctx context.Context, e *env, args []string) error {
	var f storeFlags
	fs := newFlagSet(e, "demo", "demo [--reset] [--data DIR | --db URL]")
	f.register(fs, e)
	reset := fs.Bool("reset", false, "delete every organisation, user and record first (the store must otherwise be empty)")
	a, err := begin(ctx, e, fs, &f, args, nil)
	if err != nil {
		return err
	}
	defer a.db.Close()
	empty, err := a.db.IsEmpty(ctx)
	if err != nil {
		return err
	}
	if !empty && !*reset {
		return errs.E(errs.Conflict, "the store at %s already holds data: the demo loads only into an empty store (add --reset to wipe it first)", storeName(&f))
	}
	return ensureDemo(ctx, e, a, *reset)
}

func storeName(f *storeFlags) string {
	if f.db != "" {
		return "the PostgreSQL database"
	}
	return absData(f.data)
}

func cmdOrg(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("org needs a subcommand: list, show, add, import or export")
	}
	sub, args := args[0], args[1:]
	var f storeFlags
	fs := newFlagSet(e, "org "+sub, "org "+sub+" [flags]")
	f.register(fs, e)
	out := output{w: e.stdout}
	switch sub {
	case "list":
		fs.StringVar(&out.format, "format", "table", "table or json")
		q := fs.String("q", "", "search: name, short name, domain, AS number or IP address")
		kind := fs.String("kind", "", "only this kind (OES, DSP, NCA, SPOC, CSIRT, DPA, crisis_centre, other_authority)")
		country := fs.String("country", "", "only this country (ISO 3166-1 alpha-2)")
		sector := fs.String("sector", "", "only this sector or sub-sector code")
		a, err := begin(ctx, e, fs, &f, args, &out)
		if err != nil {
			return err
		}
		defer a.db.Close()
		var all []directory.Org
		for off := 0; ; {
			pg, err := a.dir.ListOrgs(cliContext(ctx), directory.OrgFilter{Query: *q, Kind: *kind, Country: *country, Sector: *sector, Limit: directory.MaxLimit, Offset: off})
			if err != nil {
				return err
			}
			all = append(all, pg.Items...)
			off += len(pg.Items)
			if len(pg.Items) == 0 || off >= pg.Total {
				break
			}
		}
		if out.format == "json" {
			if all == nil {
				all = []directory.Org{}
			}
			return out.json(all)
		}
		rows := make([][]string, 0, len(all))
		for _, o := range all {
			var secs []string
			for _, s := range o.Sectors {
				c := s.Sector
				if s.Subsector != "" {
					c = s.Subsector
				}
				secs = append(secs, c)
			}
			rows = append(rows, []string{o.ID, o.ShortName, string(o.Kind), o.Country, o.Name, strings.Join(secs, ",")})
		}
		out.table([]string{"ID", "SHORT NAME", "KIND", "COUNTRY", "NAME", "SECTORS"}, rows)
		return nil
	case "show":
		fs.StringVar(&out.format, "format", "table", "table or json")
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if err := out.check(); err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("usage: nisduc org show ID|SHORTNAME")
		}
		a, err := open(ctx, e, &f, auth.Config{})
		if err != nil {
			return err
		}
		defer a.db.Close()
		cctx := cliContext(ctx)
		o, err := a.dir.GetOrg(cctx, pos[0])
		if err != nil {
			return err
		}
		links, err := a.dir.LinksFor(cctx, o.ID)
		if err != nil {
			return err
		}
		if out.format == "json" {
			if links == nil {
				links = []directory.Link{}
			}
			return out.json(struct {
				directory.Org
				Supervision []directory.Link `json:"supervision"`
			}{o, links})
		}
		w := tabwriter.NewWriter(e.stdout, 0, 4, 2, ' ', 0)
		p := func(k, v string) { fmt.Fprintf(w, "%s\t%s\n", k, v) }
		p("ID", o.ID)
		p("Short name", o.ShortName)
		p("Name", o.Name)
		p("Kind", string(o.Kind))
		p("Country", o.Country)
		p("Time zone", o.TimeZone)
		p("NIS2 category", o.Category)
		p("Size class", o.SizeClass)
		for _, s := range o.Sectors {
			p("Sector", strings.TrimSpace(s.Sector+" "+s.Subsector+" "+s.EntityType))
		}
		for _, c := range o.Contacts {
			p("Contact", fmt.Sprintf("%s: %s <%s> %s", c.Role, c.Name, c.Email, c.Phone))
		}
		p("Prefixes", strings.Join(o.Prefixes, " "))
		asns := make([]string, len(o.ASNs))
		for i, n := range o.ASNs {
			asns[i] = fmt.Sprintf("AS%d", n)
		}
		p("ASNs", strings.Join(asns, " "))
		p("Domains", strings.Join(o.Domains, " "))
		for _, l := range links {
			p("Served by", fmt.Sprintf("%s %s (%s %s%s, %s)", l.Role, l.AuthorityShortName, l.Country, l.Sector, strings.TrimPrefix(" "+l.Subsector, " "), l.Model))
		}
		return w.Flush()
	case "add":
		var in directory.OrgInput
		fs.StringVar(&in.ShortName, "short-name", "", "short name: 2–32 letters, digits, - or _ (used with --org)")
		fs.StringVar(&in.Name, "name", "", "full name")
		kind := fs.String("kind", "", "OES, DSP, NCA, SPOC, CSIRT, DPA, crisis_centre or other_authority")
		fs.StringVar(&in.Country, "country", "", "ISO 3166-1 alpha-2 code, e.g. LU")
		fs.StringVar(&in.TimeZone, "timezone", "", "IANA time zone, e.g. Europe/Luxembourg")
		fs.StringVar(&in.Category, "nis2-category", "", "essential or important (operators)")
		var sectors multiFlag
		fs.Var(&sectors, "sector", "sector or sub-sector code, optionally :ENTITY_TYPE (repeatable), e.g. energy/electricity:tso")
		format := fs.String("format", "table", "table or json")
		if err := parse(fs, args); err != nil {
			return err
		}
		in.Kind = authz.OrgKind(*kind)
		for _, sc := range sectors {
			code, et, _ := strings.Cut(sc, ":")
			sec := directory.OrgSector{Sector: code, EntityType: et}
			if parent, _, ok := strings.Cut(code, "/"); ok {
				sec.Sector, sec.Subsector = parent, code
			}
			in.Sectors = append(in.Sectors, sec)
		}
		a, err := open(ctx, e, &f, auth.Config{})
		if err != nil {
			return err
		}
		defer a.db.Close()
		o, err := a.dir.CreateOrg(cliContext(ctx), in)
		if err != nil {
			return err
		}
		if *format == "json" {
			return output{w: e.stdout}.json(o)
		}
		fmt.Fprintf(e.stdout, "organisation %s created (id %s)\n", o.ShortName, o.ID)
		return nil
	case "export":
		format := fs.String("format", "json", "document type: json (the nisduc directory format)")
		outPath := fs.String("o", "", "write to this file instead of standard output")
		if err := parse(fs, args); err != nil {
			return err
		}
		if *format != "json" {
			return usagef("--format: only json is supported for the directory")
		}
		a, err := open(ctx, e, &f, auth.Config{})
		if err != nil {
			return err
		}
		defer a.db.Close()
		w := e.stdout
		if *outPath != "" {
			file, err := os.OpenFile(*outPath, os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o600)
			if err != nil {
				return errs.Field("-o", "%v", err)
			}
			defer file.Close()
			w = file
		}
		return a.dir.Export(cliContext(ctx), w)
	case "import":
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("usage: nisduc org import FILE (or - for standard input)")
		}
		a, err := open(ctx, e, &f, auth.Config{})
		if err != nil {
			return err
		}
		defer a.db.Close()
		var r io.Reader = e.stdin
		if pos[0] != "-" {
			file, err := os.Open(pos[0])
			if err != nil {
				return errs.E(errs.Invalid, "%v", err)
			}
			defer file.Close()
			r = file
		}
		res, err := a.dir.Import(cliContext(ctx), r)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "imported: %d created, %d updated, %d unchanged; supervision links: %d created, %d updated\n",
			res.Created, res.Updated, res.Unchanged, res.LinksCreated, res.LinksUpdated)
		return nil
	}
	return usagef("unknown subcommand %q: list, show, add, import or export", sub)
}

func cmdUser(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("user needs a subcommand: add or list")
	}
	sub, args := args[0], args[1:]
	var f storeFlags
	fs := newFlagSet(e, "user "+sub, "user "+sub+" [flags]")
	f.register(fs, e)
	switch sub {
	case "add":
		org := fs.String("org", "", "organisation (UUID or short name)")
		email := fs.String("email", "", "e-mail address (the login)")
		name := fs.String("name", "", "full name")
		admin := fs.Bool("admin", false, "platform administrator")
		var roles, sectors multiFlag
		fs.Var(&roles, "role", "a role (repeatable): "+rolesList())
		fs.Var(&sectors, "sector", "limit an analyst or observer to this sector (repeatable)")
		lang := fs.String("language", "en", "en, fr, de or nl")
		noPassword := fs.Bool("no-password", false, "create the account without a password (it cannot sign in until one is set)")
		if err := parse(fs, args); err != nil {
			return err
		}
		if *org == "" || *email == "" || *name == "" {
			return usagef("--org, --email and --name are required")
		}
		nu := directory.NewUser{OrgID: *org, Email: *email, Name: *name, Sectors: sectors, Language: *lang}
		if *admin {
			nu.Roles = append(nu.Roles, authz.PlatformAdmin)
		}
		for _, r := range roles {
			nu.Roles = append(nu.Roles, authz.Role(r))
		}
		if len(nu.Roles) == 0 {
			return usagef("give --admin or at least one --role")
		}
		if !*noPassword {
			pw, err := readPassword(e)
			if err != nil {
				return err
			}
			nu.Password = pw
		}
		a, err := open(ctx, e, &f, auth.Config{})
		if err != nil {
			return err
		}
		defer a.db.Close()
		u, err := a.dir.CreateUser(cliContext(ctx), nu)
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "user %s created in %s (id %s, roles %s)\n", u.Email, u.OrgShortName, u.ID, joinRoles(u.Roles))
		return nil
	case "list":
		out := output{w: e.stdout}
		fs.StringVar(&out.format, "format", "table", "table or json")
		org := fs.String("org", "", "only this organisation (UUID or short name)")
		role := fs.String("role", "", "only users with this role")
		q := fs.String("q", "", "search e-mail or name")
		a, err := begin(ctx, e, fs, &f, args, &out)
		if err != nil {
			return err
		}
		defer a.db.Close()
		users, err := a.dir.ListAllUsers(cliContext(ctx), directory.UserFilter{OrgID: *org, Role: authz.Role(*role), Query: *q})
		if err != nil {
			return err
		}
		if out.format == "json" {
			if users == nil {
				users = []directory.User{}
			}
			return out.json(users)
		}
		rows := make([][]string, 0, len(users))
		for _, u := range users {
			state := "active"
			if u.Disabled {
				state = "disabled"
			} else if !u.HasPassword {
				state = "no password"
			}
			rows = append(rows, []string{u.Email, u.Name, u.OrgShortName, joinRoles(u.Roles), state})
		}
		out.table([]string{"EMAIL", "NAME", "ORG", "ROLES", "STATE"}, rows)
		return nil
	}
	return usagef("unknown subcommand %q: add or list", sub)
}

func rolesList() string {
	var s []string
	for _, r := range authz.Roles {
		s = append(s, string(r))
	}
	return strings.Join(s, ", ")
}

func joinRoles(rs []authz.Role) string {
	s := make([]string, len(rs))
	for i, r := range rs {
		s[i] = string(r)
	}
	return strings.Join(s, ",")
}

// readPassword reads a new password: twice without echo from a terminal,
// or the first line of standard input when it is piped.
func readPassword(e *env) (string, error) {
	if f, ok := e.stdin.(*os.File); ok && term.IsTerminal(int(f.Fd())) {
		fmt.Fprint(e.stderr, "Password (12 characters or more): ")
		p1, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", errs.E(errs.Invalid, "reading the password: %v", err)
		}
		fmt.Fprint(e.stderr, "Repeat it: ")
		p2, err := term.ReadPassword(int(f.Fd()))
		fmt.Fprintln(e.stderr)
		if err != nil {
			return "", errs.E(errs.Invalid, "reading the password: %v", err)
		}
		if string(p1) != string(p2) {
			return "", errs.Field("password", "the two passwords differ")
		}
		return string(p1), nil
	}
	line, err := bufio.NewReader(e.stdin).ReadString('\n')
	if err != nil && line == "" {
		return "", errs.Field("password", "none given on standard input (pipe it in, or use --no-password)")
	}
	return strings.TrimRight(line, "\r\n"), nil
}

func cmdToken(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 || args[0] != "create" {
		return usagef("token needs a subcommand: create")
	}
	var f storeFlags
	fs := newFlagSet(e, "token create", "token create --user EMAIL [--name NAME] [--days N]")
	f.register(fs, e)
	email := fs.String("user", "", "the user (e-mail) whose rights the token carries")
	name := fs.String("name", "cli", "a name to recognise the token by")
	days := fs.Int("days", 90, "days until it expires (1–366)")
	format := fs.String("format", "text", "text (the token alone) or json")
	if err := parse(fs, args[1:]); err != nil {
		return err
	}
	if *email == "" {
		return usagef("--user is required")
	}
	a, err := open(ctx, e, &f, auth.Config{})
	if err != nil {
		return err
	}
	defer a.db.Close()
	cctx := cliContext(ctx)
	users, err := a.dir.ListAllUsers(cctx, directory.UserFilter{Query: *email})
	if err != nil {
		return err
	}
	var userID string
	for _, u := range users {
		if strings.EqualFold(u.Email, *email) {
			userID = u.ID
		}
	}
	if userID == "" {
		return errs.E(errs.NotFound, "no user with e-mail %s", *email)
	}
	secret, tok, err := a.auth.CreateToken(cctx, userID, *name, time.Duration(*days)*24*time.Hour)
	if err != nil {
		return err
	}
	if *format == "json" {
		return output{w: e.stdout}.json(map[string]any{"id": tok.ID, "name": tok.Name, "token": secret, "expires_at": tok.ExpiresAt})
	}
	fmt.Fprintln(e.stdout, secret)
	fmt.Fprintf(e.stderr, "token %q for %s expires %s; it is shown only now\n", tok.Name, *email, tok.ExpiresAt.Format(time.RFC3339))
	return nil
}

func cmdAudit(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("audit needs a subcommand: verify or list")
	}
	sub, args := args[0], args[1:]
	var f storeFlags
	fs := newFlagSet(e, "audit "+sub, "audit "+sub+" [flags]")
	f.register(fs, e)
	out := output{w: e.stdout}
	fs.StringVar(&out.format, "format", "table", "table or json")
	switch sub {
	case "verify":
		a, err := begin(ctx, e, fs, &f, args, &out)
		if err != nil {
			return err
		}
		defer a.db.Close()
		rep, err := a.audit.Verify(ctx, a.db)
		if err != nil {
			return err
		}
		if rep.OK {
			// Seal what was just verified, so a later cut is caught.
			if _, err := a.audit.Checkpoint(ctx, a.db); err != nil {
				return err
			}
		}
		if out.format == "json" {
			if err := out.json(rep); err != nil {
				return err
			}
		} else if rep.OK {
			fmt.Fprintf(e.stdout, "audit trail intact: %d entries, %d checkpoints verified\n", rep.Entries, rep.Checkpoints)
		} else {
			fmt.Fprintf(e.stdout, "audit trail BROKEN after %d good entries: %s\n", rep.Entries, rep.Problem.Message("en"))
			if rep.Problem.Detail != "" {
				fmt.Fprintf(e.stdout, "  %s\n", rep.Problem.Detail)
			}
		}
		if !rep.OK {
			return errs.E(errs.Conflict, "audit verification failed")
		}
		return nil
	case "list":
		org := fs.String("org", "", "only this organisation (UUID or short name)")
		action := fs.String("action", "", "only this action, e.g. org.update")
		limit := fs.Int("limit", 50, "how many entries, newest first (at most 500)")
		a, err := begin(ctx, e, fs, &f, args, &out)
		if err != nil {
			return err
		}
		defer a.db.Close()
		cctx := cliContext(ctx)
		flt := audit.Filter{Scope: authz.Scope{All: true}, Action: *action, Limit: *limit}
		if *org != "" {
			id, err := a.dir.ResolveOrg(cctx, *org)
			if err != nil {
				return err
			}
			flt.OrgID = id
		}
		recs, err := a.audit.List(cctx, a.db, flt)
		if err != nil {
			return err
		}
		if out.format == "json" {
			if recs == nil {
				recs = []audit.Record{}
			}
			return out.json(recs)
		}
		rows := make([][]string, 0, len(recs))
		for _, r := range recs {
			rows = append(rows, []string{fmt.Sprint(r.Seq), r.At.Format(time.RFC3339), r.ActorName, r.Addr, r.Action, r.ObjectType, r.ObjectID})
		}
		out.table([]string{"SEQ", "AT", "ACTOR", "FROM", "ACTION", "OBJECT", "ID"}, rows)
		return nil
	}
	return usagef("unknown subcommand %q: verify or list", sub)
}
