// Command wxgen turns api/openapi.yaml into Go. It runs from `make generate`
// (through the //go:generate lines of generate.go), in two steps around
// oapi-codegen:
//
//	wxgen split   writes gen/.build: one OpenAPI document and one oapi-codegen
//	              configuration per tag, and gen/gen.go, whose //go:generate
//	              lines run oapi-codegen on them (models only);
//	wxgen client  reads the spec and the generated models and writes the thin
//	              typed layer: gen/<tag>/client.gen.go (one method per
//	              operation, mode-independent methods for direct/partner twins),
//	              the root package's service wiring, the callback event table
//	              and docs/apis.md.
//
// It lives in the tools module so that neither it nor oapi-codegen ever
// enters the library's module graph.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
)

func main() {
	if len(os.Args) < 2 {
		usage()
	}
	cmd := os.Args[1]
	fs := flag.NewFlagSet(cmd, flag.ExitOnError)
	root := fs.String("root", "..", "repository root")
	_ = fs.Parse(os.Args[2:])
	spec, err := loadSpec(filepath.Join(*root, "api", "openapi.yaml"), filepath.Join(*root, "api", "go-overlay.yaml"))
	if err != nil {
		fail(err)
	}
	switch cmd {
	case "split":
		err = split(spec, filepath.Join(*root, "gen"))
	case "client":
		err = generateClients(spec, *root)
	default:
		usage()
	}
	if err != nil {
		fail(err)
	}
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: wxgen split|client [-root DIR]")
	os.Exit(2)
}

func fail(err error) {
	fmt.Fprintln(os.Stderr, "wxgen:", err)
	os.Exit(1)
}
