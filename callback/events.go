package callback

// eventDecl says which Go type the decrypted resource of an event type
// decodes into. When several declarations share an event type, the first
// whose Key is a property of the plaintext wins; a declaration without a Key
// is the fallback.
type eventDecl struct {
	Type string
	Key  string
	New  func() any
}
