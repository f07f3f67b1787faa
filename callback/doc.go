// Package callback receives WeChat Pay notifications (回调通知): it verifies
// their signature, decrypts their resource and decodes it into a typed
// Event, and serves them over HTTP with duplicate suppression.
//
// # Parsing
//
// A Parser does one thing: Parse(ctx, header, body) takes a notification's
// headers, in whatever shape the web framework hands them over (http.Header,
// maps, getters, fasthttp's header; case-insensitive, CGI names understood),
// and its raw body, and returns an *Event or an *Error that names the step
// that failed and what to do:
//
//   - the signature (StepSignature) is checked exactly as for API answers,
//     with the same Verifier (the client's platform keys): SHA256withRSA over
//     TIMESTAMP\nNONCE\nBODY\n with the key Wechatpay-Serial names, a
//     5-minute window, and WeChat Pay's signature probes reported as
//     auth.ErrSignatureProbe; a body that a framework re-encoded is
//     recognised (ErrBodyChanged);
//   - the resource is decrypted by the Opener its algorithm names:
//     AEAD_AES_256_GCM under the APIv3 key built in, others (AEAD_SM4_GCM)
//     registered in Config.Openers;
//   - the plaintext is decoded into the type Config.Events declares for the
//     event type: each generated area lists its own (payments.Events(), from
//     the x-wxpay-events of api/openapi.yaml), e.g. *payments.Transaction
//     for TRANSACTION.SUCCESS, and wxpay.Events() lists every area's. Event
//     types without a declaration are not errors: their Resource is the raw
//     JSON.
//
// # Serving
//
// NewHandler wraps a Parser and your function into an http.Handler that
// answers WeChat Pay correctly: 200 only after your function returned nil,
// a non-2xx status with {"code":"FAIL",…} otherwise, so that WeChat Pay
// delivers again. Duplicates (same notification id) are suppressed through a
// Store: a delivery claims the id for a lease, runs your function with a
// timeout, and records the id as processed when it returned nil. The default
// MemoryStore does this within one process; a shared Store (Redis:
// github.com/gowxpay/wxpay/contrib/redis) across instances and restarts.
// Methods, body size, panics and concurrency are handled. For frameworks that do not
// take an http.Handler, call Parse and answer with Response; the examples
// module (examples/) shows net/http, gin, echo, fiber and chi.
//
// Package callbacktest makes signed, encrypted notifications for tests.
package callback
