package wxpay

// The code generation pipeline, run by `make generate` (go generate .):
//
//  1. wxgen split reads api/openapi.yaml and api/go-overlay.yaml and writes,
//     per tag, a self-contained OpenAPI document and an oapi-codegen
//     configuration to gen/.build, plus gen/gen.go;
//  2. go generate ./gen runs oapi-codegen, pinned in tools/go.mod, on each of
//     them: gen/<tag>/models.gen.go;
//  3. wxgen client reads the spec and the generated models and writes the
//     typed methods, iterators, checks and notification events of each area
//     (gen/<tag>/client.gen.go), services.gen.go and docs/apis.md;
//  4. configdoc copies the fields of merchant.Config into the doc comment
//     of wxpay.Config (config.gen.go), so that go doc shows them.
//
// The generator and oapi-codegen live in the tools module, never in this
// module's graph.

//go:generate go -C tools run ./cmd/wxgen split -root ..
//go:generate go generate ./gen
//go:generate go -C tools run ./cmd/wxgen client -root ..
//go:generate go run ./internal/tools/configdoc
