package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"text/tabwriter"
	"time"

	"github.com/openchurn/churn/serving/access"
	"github.com/openchurn/churn/store"
)

// runKeys creates, lists and revokes API keys.
func runKeys(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	usage := func() {
		fmt.Fprintln(stderr, "Usage: churnctl keys create --role viewer|ingest|admin [--name NAME] [--owner OWNER] [--db DSN]\n"+
			"       churnctl keys list [--db DSN]\n"+
			"       churnctl keys revoke [--db DSN] ID\n\n"+
			"create prints the new key once; the store keeps only its SHA-256. A key with an owner\n"+
			"(a rep's id, as in the accounts' owner column) opens the dashboard on that owner's Today\n"+
			"view and lists that owner's accounts, trials and alerts unless asked for all.")
	}
	if len(args) == 0 {
		usage()
		return usagef("keys: want create, list or revoke")
	}
	sub := args[0]
	fs := newFlagSet("keys "+sub, stderr)
	db := dbFlag(fs)
	var role, name, owner *string
	if sub == "create" {
		role = fs.String("role", "", "viewer (read), ingest (write records) or admin (models, keys)")
		name = fs.String("name", "", "what the key is for")
		owner = fs.String("owner", "", "the account owner whose book the key sees by default (a rep's id, e.g. rep-02); none by default")
	}
	fs.Usage = func() { usage(); fmt.Fprintln(stderr, "\nFlags:"); fs.PrintDefaults() }
	if err := parseFlags(fs, args[1:]); err != nil {
		return err
	}
	wantArgs := 0
	switch sub {
	case "create":
		if !access.Role(*role).Valid() {
			return usagef("--role %q: want viewer, ingest or admin", *role)
		}
		if err := access.ValidOwner(*owner); err != nil {
			return usagef("--owner: %v", err)
		}
	case "list":
	case "revoke":
		wantArgs = 1
	default:
		usage()
		return usagef("keys: unknown subcommand %q", sub)
	}
	if fs.NArg() != wantArgs {
		return usagef("keys %s: want %d argument(s), got %q", sub, wantArgs, fs.Args())
	}
	s, err := openMigrated(ctx, *db)
	if err != nil {
		return err
	}
	defer s.Close()
	switch sub {
	case "create":
		key, rec, err := access.NewOwnedKey(access.Role(*role), *name, *owner, time.Now())
		if err != nil {
			return err
		}
		if err := s.CreateAPIKey(ctx, rec); err != nil {
			return err
		}
		if rec.Owner != "" {
			fmt.Fprintf(stderr, "created %s key %s for %s's book; it is shown only now:\n", rec.Role, rec.ID, rec.Owner)
		} else {
			fmt.Fprintf(stderr, "created %s key %s; it is shown only now:\n", rec.Role, rec.ID)
		}
		fmt.Fprintln(stdout, key)
	case "list":
		keys, err := s.APIKeys(ctx)
		if err != nil {
			return err
		}
		tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
		fmt.Fprintln(tw, "id\trole\tname\towner\tcreated\trevoked")
		for _, k := range keys {
			revoked := ""
			if !k.RevokedAt.IsZero() {
				revoked = k.RevokedAt.Format(time.RFC3339)
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\t%s\n", k.ID, k.Role, k.Name, k.Owner, k.CreatedAt.Format(time.RFC3339), revoked)
		}
		return tw.Flush()
	case "revoke":
		err := s.RevokeAPIKey(ctx, fs.Arg(0), time.Now())
		if errors.Is(err, store.ErrUnknownKey) {
			return usageError{err}
		}
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "revoked %s\n", fs.Arg(0))
	}
	return nil
}
