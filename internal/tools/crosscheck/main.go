// Command crosscheck extracts facts about WeChat Pay operations from local
// checkouts of three independent descriptions — the official Go SDK, the
// official Java SDK and gopay — and writes them as the fixture
// api/testdata/crosscheck.json, which api/crosscheck_test.go compares with
// api/openapi.yaml. It runs at development time only:
//
//	go run ./internal/tools/crosscheck \
//	    -go ~/src/wechatpay-go -go-commit $(git -C ~/src/wechatpay-go rev-parse HEAD) \
//	    -java ~/src/wechatpay-java -java-commit ... \
//	    -gopay ~/src/gopay -gopay-commit ... \
//	    > api/testdata/crosscheck.json
//
// Only facts are written (methods, paths, field paths, JSON types, enum
// values, required flags); no code of the sources is copied. Record the
// commits in NOTICE when the fixture is refreshed.
package main

import (
	"flag"
	"fmt"
	"os"

	"github.com/gowxpay/wxpay/internal/crosscheck"
)

func main() {
	goDir := flag.String("go", "", "checkout of github.com/wechatpay-apiv3/wechatpay-go")
	goCommit := flag.String("go-commit", "", "its commit")
	javaDir := flag.String("java", "", "checkout of github.com/wechatpay-apiv3/wechatpay-java")
	javaCommit := flag.String("java-commit", "", "its commit")
	gopayDir := flag.String("gopay", "", "checkout of github.com/go-pay/gopay")
	gopayCommit := flag.String("gopay-commit", "", "its commit")
	flag.Parse()
	if *goDir == "" || *javaDir == "" || *gopayDir == "" {
		fmt.Fprintln(os.Stderr, "usage: crosscheck -go DIR -go-commit SHA -java DIR -java-commit SHA -gopay DIR -gopay-commit SHA > api/testdata/crosscheck.json")
		os.Exit(2)
	}
	f := &crosscheck.Fixture{Sources: []crosscheck.Source{
		{Name: "wechatpay-go", Repo: "https://github.com/wechatpay-apiv3/wechatpay-go", Commit: *goCommit, License: "Apache-2.0", Required: true, Requests: true, Enums: true},
		{Name: "wechatpay-java", Repo: "https://github.com/wechatpay-apiv3/wechatpay-java", Commit: *javaCommit, License: "Apache-2.0", Requests: true, Enums: true},
		{Name: "gopay", Repo: "https://github.com/go-pay/gopay", Commit: *gopayCommit, License: "Apache-2.0"},
	}}
	for _, src := range []struct {
		dir string
		fn  func(string) ([]*crosscheck.Op, error)
	}{{*goDir, crosscheck.WechatpayGo}, {*javaDir, crosscheck.WechatpayJava}, {*gopayDir, crosscheck.Gopay}} {
		ops, err := src.fn(src.dir)
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(1)
		}
		f.Ops = append(f.Ops, ops...)
	}
	b, err := f.Marshal()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	os.Stdout.Write(b)
}
