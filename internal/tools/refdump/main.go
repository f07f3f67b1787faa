// Command refdump prints the flattened facts of reference operations, for
// whoever writes api/openapi.yaml. It runs at development time only.
//
//	go run ./internal/tools/refdump -ref ../shared/reference/wechatpay-openapi '^/v3/pay/transactions'
package main

import (
	"flag"
	"fmt"
	"os"
	"regexp"
	"strings"

	"github.com/gowxpay/wxpay/internal/refspec"
)

func main() {
	ref := flag.String("ref", "../shared/reference/wechatpay-openapi", "reference root")
	list := flag.Bool("l", false, "list matching operations only")
	flag.Parse()
	if flag.NArg() != 1 {
		fmt.Fprintln(os.Stderr, "usage: refdump [-ref dir] [-l] PATH-REGEXP")
		os.Exit(2)
	}
	re, err := regexp.Compile(flag.Arg(0))
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	spec, err := refspec.Load(*ref)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	for _, k := range spec.Sorted() {
		op := spec.Ops[k]
		if !re.MatchString(op.Path) {
			continue
		}
		if *list {
			fmt.Printf("%-6s %-70s %s %v\n", op.Method, op.Path, op.Summary, op.Roles)
			continue
		}
		fmt.Printf("=== %s %s  (%s)\n  summary: %s\n  roles: %v\n  tags: %v\n", op.Method, op.Path, op.File, op.Summary, op.Roles, op.Tags)
		if op.SerialHeader {
			fmt.Println("  wechatpay-serial header: yes (request may carry encrypted fields)")
		}
		if len(op.Produces) > 0 {
			fmt.Printf("  produces: %v\n", op.Produces)
		}
		for _, p := range op.Params {
			fmt.Printf("  param %s in %s required=%v %s\n", p.Name, p.In, p.Required, brief(p.Schema))
		}
		if op.Body != nil {
			fmt.Println("  body:")
			dump(op.Body, "    ")
		}
		for code, r := range op.Responses {
			fmt.Printf("  response %s:\n", code)
			if r != nil {
				dump(r, "    ")
			}
		}
	}
}

func brief(s *refspec.Schema) string {
	if s == nil {
		return ""
	}
	var b strings.Builder
	b.WriteString(s.Type)
	if s.Format != "" {
		b.WriteString(" (" + s.Format + ")")
	}
	if len(s.Enum) > 0 {
		b.WriteString(" enum=" + strings.Join(s.Enum, ","))
	}
	if s.Description != "" {
		b.WriteString("  # " + oneLine(s.Description))
	}
	if s.Example != "" {
		b.WriteString("  e.g. " + oneLine(s.Example))
	}
	return b.String()
}

func oneLine(s string) string {
	s = strings.ReplaceAll(s, "\n", " ")
	if r := []rune(s); len(r) > 60 {
		s = string(r[:60]) + "…"
	}
	return s
}

func dump(s *refspec.Schema, indent string) {
	if len(s.Sensitive) > 0 {
		fmt.Printf("%s(x-is-sensitive: %v)\n", indent, s.Sensitive)
	}
	for _, p := range s.Props {
		mark := " "
		if s.IsRequired(p.Name) {
			mark = "*"
		}
		fmt.Printf("%s%s%s: %s\n", indent, mark, p.Name, brief(p.Schema))
		if p.Schema == nil {
			continue
		}
		if len(p.Schema.Props) > 0 {
			dump(p.Schema, indent+"    ")
		}
		if p.Schema.Items != nil {
			fmt.Printf("%s    [items] %s\n", indent, brief(p.Schema.Items))
			if len(p.Schema.Items.Props) > 0 {
				dump(p.Schema.Items, indent+"      ")
			}
		}
	}
}
