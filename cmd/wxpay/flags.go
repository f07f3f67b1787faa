package main

import (
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// errHelp is what parsing returns for -h and --help.
var errHelp = flag.ErrHelp

// newFlagSet returns a flag set that reports errors to its caller instead
// of printing them.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.Usage = func() {}
	return fs
}

// parseArgs parses flags and positional arguments in any order (the flag
// package stops at the first argument that is not a flag); "--" ends the
// flags.
func parseArgs(fs *flag.FlagSet, args []string) ([]string, error) {
	var pos []string
	for {
		if err := fs.Parse(args); err != nil {
			return nil, err
		}
		rest := fs.Args()
		if len(rest) == 0 {
			return pos, nil
		}
		if consumed := len(args) - len(rest); consumed > 0 && args[consumed-1] == "--" {
			return append(pos, rest...), nil
		}
		pos = append(pos, rest[0])
		args = rest[1:]
	}
}

// cmdHelp is the help text of a command.
type cmdHelp struct {
	name     string // "certs download"
	usage    string // the usage line after "wxpay "
	about    string
	examples []string
	creds    bool // the command takes the credential flags
}

// parseCommand registers the shared flags on fs, parses args and handles
// --help and flag errors. ok is false when the command must return code.
func (a *app) parseCommand(fs *flag.FlagSet, h cmdHelp, args []string) (pos []string, code int, ok bool) {
	if h.creds {
		a.creds.register(fs)
	}
	fs.BoolVar(&a.verbose, "verbose", a.verbose, "log every request to stderr (never keys, signatures or bodies)")
	pos, err := parseArgs(fs, args)
	switch {
	case errors.Is(err, errHelp):
		printHelp(a.stdout, fs, h)
		return nil, exitOK, false
	case err != nil:
		fmt.Fprintf(a.stderr, "wxpay %s: %v\nRun 'wxpay %s --help' for usage.\n", h.name, err, h.name)
		return nil, exitUsage, false
	}
	return pos, exitOK, true
}

// usageError reports a wrong command line.
func (a *app) usageError(h cmdHelp, format string, args ...any) int {
	fmt.Fprintf(a.stderr, "wxpay %s: %s\nUsage: wxpay %s\nRun 'wxpay %s --help' for details.\n", h.name, fmt.Sprintf(format, args...), h.usage, h.name)
	return exitUsage
}

// printHelp writes a command's help: usage line, description, its own
// flags, the credential flags when it takes them, and examples.
func printHelp(w io.Writer, fs *flag.FlagSet, h cmdHelp) {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: wxpay %s\n\n%s\n", h.usage, strings.TrimSpace(h.about))
	type line struct{ left, usage string }
	var lines []line
	width := 0
	fs.VisitAll(func(f *flag.Flag) {
		if _, isCred := f.Value.(credValue); isCred {
			return
		}
		arg, usage := flag.UnquoteUsage(f)
		left := "--" + f.Name
		if arg != "" {
			left += " " + argName(arg)
		}
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" && f.DefValue != "0s" {
			usage += " (default " + f.DefValue + ")"
		}
		lines = append(lines, line{left, usage})
		width = max(width, len(left))
	})
	if len(lines) > 0 {
		b.WriteString("\nFlags:\n")
		for _, l := range lines {
			fmt.Fprintf(&b, "  %-*s  %s\n", width, l.left, l.usage)
		}
	}
	if h.creds {
		b.WriteString("\nCredentials (flags > environment > --config file):\n")
		writeCredentialHelp(&b)
	}
	if len(h.examples) > 0 {
		b.WriteString("\nExample")
		if len(h.examples) > 1 {
			b.WriteString("s")
		}
		b.WriteString(":\n")
		for _, e := range h.examples {
			b.WriteString("  " + e + "\n")
		}
	}
	io.WriteString(w, b.String())
}

// argName upper-cases the argument name flag.UnquoteUsage found.
func argName(s string) string {
	switch s {
	case "string", "value":
		return "VALUE"
	case "duration":
		return "DURATION"
	case "int":
		return "N"
	case "float":
		return "X"
	}
	return strings.ToUpper(s)
}
