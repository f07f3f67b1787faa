// Package api holds the WeChat Pay API description wxpay is generated from,
// api/openapi.yaml, embedded for the sandbox and the tests. The client
// packages never import it.
package api

import _ "embed"

//go:embed openapi.yaml
var spec string

//go:embed go-overlay.yaml
var overlay string

// OpenAPI returns the OpenAPI 3.0 description (YAML).
func OpenAPI() []byte { return []byte(spec) }

// GoOverlay returns the overlay of Go naming hints (YAML).
func GoOverlay() []byte { return []byte(overlay) }
