package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/nisduc/nisduc/internal/auth"
	"github.com/nisduc/nisduc/internal/errs"
	"github.com/nisduc/nisduc/internal/model"
)

// cmdModel is `nisduc model`: regulatory models, knowledge bases and sector
// models (list, validate, export, import).
func cmdModel(ctx context.Context, e *env, args []string) error {
	if len(args) == 0 {
		return usagef("model needs a subcommand: list, validate, export, import or import-monarc")
	}
	sub, args := args[0], args[1:]
	var f storeFlags
	fs := newFlagSet(e, "model "+sub, "model "+sub+" [flags]")
	f.register(fs, e)
	// withModels opens the store and stores the built-in models not stored yet.
	withModels := func(run func(ctx context.Context, svc *model.Service) error) error {
		a, err := open(ctx, e, &f, auth.Config{})
		if err != nil {
			return err
		}
		defer a.db.Close()
		cctx := cliContext(ctx)
		svc := a.model
		if err := svc.SyncBuiltins(cctx); err != nil {
			return err
		}
		return run(cctx, svc)
	}
	switch sub {
	case "list":
		out := output{w: e.stdout}
		fs.StringVar(&out.format, "format", "table", "table or json")
		if err := parse(fs, args); err != nil {
			return err
		}
		if err := out.check(); err != nil {
			return err
		}
		return withModels(func(ctx context.Context, svc *model.Service) error {
			list, err := svc.List(ctx)
			if err != nil {
				return err
			}
			if out.format == "json" {
				if list == nil {
					list = []model.Summary{}
				}
				return out.json(list)
			}
			rows := make([][]string, 0, len(list))
			for _, m := range list {
				draft := ""
				if m.Draft > 0 {
					draft = strconv.Itoa(m.Draft)
				}
				rows = append(rows, []string{m.Code, string(m.Kind), strconv.Itoa(m.Version), string(m.Status), draft, m.Title})
			}
			out.table([]string{"CODE", "KIND", "VERSION", "STATUS", "DRAFT", "TITLE"}, rows)
			return nil
		})
	case "validate":
		fs.Usage = func() {
			fmt.Fprintln(e.stderr, "Usage: nisduc model validate FILE...\n\nChecks model documents (YAML or JSON) against the built-in models, which a file\nof the same kind and code replaces. Lists every problem as file:line path: message.")
		}
		files, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if len(files) == 0 {
			return usagef("usage: nisduc model validate FILE...")
		}
		return validateFiles(e, files)
	case "export":
		format := fs.String("format", "yaml", "yaml or json")
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("usage: nisduc model export CODE[@VERSION] [--format yaml|json]")
		}
		if *format != "yaml" && *format != "json" {
			return usagef("--format must be yaml or json, not %q", *format)
		}
		code, version, err := modelRef(pos[0])
		if err != nil {
			return err
		}
		return withModels(func(ctx context.Context, svc *model.Service) error {
			v, err := svc.Get(ctx, code, version)
			if err != nil {
				return err
			}
			b := v.Doc.YAML()
			if *format == "json" {
				b = v.Doc.JSON()
			}
			_, err = e.stdout.Write(b)
			return err
		})
	case "import":
		publish := fs.Bool("publish", false, "publish a model with a new code at once (an existing code always gets a new draft)")
		pos, err := parseArgs(fs, args)
		if err != nil {
			return err
		}
		if len(pos) != 1 {
			return usagef("usage: nisduc model import FILE (or - for standard input) [--publish]")
		}
		data, err := readInput(e, pos[0])
		if err != nil {
			return err
		}
		return withModels(func(ctx context.Context, svc *model.Service) error {
			info, err := svc.Import(ctx, data, model.ImportOptions{Name: pos[0], Publish: *publish})
			if err != nil {
				return err
			}
			fmt.Fprintf(e.stdout, "imported %s version %d (%s, %s)\n", info.Code, info.Version, info.Kind, info.Status)
			return nil
		})
	case "import-monarc":
		return importMONARC(e, fs, args, withModels)
	}
	return usagef("unknown subcommand %q: list, validate, export, import or import-monarc", sub)
}

// importMONARC is `nisduc model import-monarc DIR`: the MONARC open
// knowledge base (the layout of monarc-project/monarc-objects) converted
// into one knowledge-base model and stored as a draft (or published).
// Problems of the folder are listed and nothing is stored, unless --force.
func importMONARC(e *env, fs *flag.FlagSet, args []string, withModels func(func(context.Context, *model.Service) error) error) error {
	code := fs.String("code", model.MONARCCode, "code of the knowledge-base model")
	publish := fs.Bool("publish", false, "publish the model if its code is new (an existing code always gets a new draft)")
	force := fs.Bool("force", false, "import even when files of the folder have problems (they are listed)")
	fs.Usage = func() {
		fmt.Fprintln(e.stderr, "Usage: nisduc model import-monarc DIR [--code monarc] [--publish] [--force]\n\n"+
			"Imports the MONARC open knowledge base (a copy of monarc-project/monarc-objects: threats/,\n"+
			"vulnerabilities/, assets/, risks/, referentials/, referentials-mapping/) as a knowledge-base\n"+
			"model that keeps MONARC's UUIDs.\n\nFlags:")
		fs.PrintDefaults()
	}
	pos, err := parseArgs(fs, args)
	if err != nil {
		return err
	}
	if len(pos) != 1 {
		return usagef("usage: nisduc model import-monarc DIR [--code monarc] [--publish] [--force]")
	}
	dir := pos[0]
	if st, err := os.Stat(dir); err != nil || !st.IsDir() {
		return errs.E(errs.Invalid, "%s is not a folder", dir)
	}
	doc, problems := model.FromMONARCCode(os.DirFS(dir), *code)
	for _, p := range problems {
		fmt.Fprintln(e.stderr, p.String())
	}
	if len(problems) > 0 && !*force {
		return errs.E(errs.Invalid, "%s: %d problems (nothing imported; --force imports anyway)", dir, len(problems))
	}
	return withModels(func(ctx context.Context, svc *model.Service) error {
		info, err := svc.Import(ctx, doc.JSON(), model.ImportOptions{Name: dir, Publish: *publish})
		if err != nil {
			return err
		}
		fmt.Fprintf(e.stdout, "imported %s version %d (%s, %s): %d threats, %d vulnerabilities, %d assets, %d measures; languages %s\n",
			info.Code, info.Version, info.Kind, info.Status, len(doc.Threats), len(doc.Vulnerabilities), len(doc.Assets),
			len(doc.Measures), strings.Join(model.DocumentLanguages(doc), ", "))
		return nil
	})
}

// modelRef splits "code@version" (version 0 = latest published).
func modelRef(s string) (string, int, error) {
	code, v, ok := strings.Cut(s, "@")
	if !ok {
		return code, 0, nil
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 1 {
		return "", 0, usagef("%q: the version after @ is a number from 1", s)
	}
	return code, n, nil
}

// readInput reads a file, or standard input for "-", within the size limit.
func readInput(e *env, name string) ([]byte, error) {
	var r io.Reader = e.stdin
	if name != "-" {
		file, err := os.Open(name)
		if err != nil {
			return nil, errs.E(errs.Invalid, "%v", err)
		}
		defer file.Close()
		r = file
	}
	data, err := io.ReadAll(io.LimitReader(r, model.MaxSize+1))
	if err != nil {
		return nil, errs.E(errs.Invalid, "%s: %v", name, err)
	}
	return data, nil
}

// validateFiles checks files against the built-in models and prints every
// problem they have or cause; problems the built-in models already had
// without the files are not repeated.
func validateFiles(e *env, files []string) error {
	set, baseline := model.Builtins()
	known := map[string]bool{}
	for _, p := range baseline {
		known[p.String()] = true
	}
	var problems []model.Problem
	given := map[string]bool{}
	for _, name := range files {
		data, err := readInput(e, name)
		if err != nil {
			problems = append(problems, model.Problem{File: name, Message: errs.As(err).Message})
			continue
		}
		d, ps := model.Parse(name, data)
		problems = append(problems, ps...)
		if d == nil {
			continue
		}
		// A file replaces the built-in of its kind and code; two files
		// with the same kind and code are reported as duplicates.
		if k := string(d.Kind) + " " + d.Code; given[k] {
			set.Add(d)
		} else {
			given[k] = true
			set.Put(d)
		}
	}
	for _, p := range model.Validate(set) {
		if !known[p.String()] {
			problems = append(problems, p)
		}
	}
	model.SortProblems(problems)
	if len(problems) == 0 {
		fmt.Fprintln(e.stdout, "ok")
		return nil
	}
	for _, p := range problems {
		fmt.Fprintln(e.stdout, p.String())
	}
	return errs.E(errs.Invalid, "problems found: %d", len(problems))
}
