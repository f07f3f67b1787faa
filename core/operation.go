package core

import (
	"fmt"
)

// Modes is a set of merchant modes.
type Modes uint8

const (
	// Direct is the direct-merchant mode (直连商户): the merchant calls for itself.
	Direct Modes = 1 << iota
	// Partner is the service-provider mode (服务商): the provider calls on behalf
	// of its sub-merchants.
	Partner
)

// String returns "direct", "partner" or "direct+partner".
func (m Modes) String() string {
	switch m {
	case Direct:
		return "direct"
	case Partner:
		return "partner"
	case Direct | Partner:
		return "direct+partner"
	}
	return fmt.Sprintf("Modes(%d)", uint8(m))
}

// Operation describes one API operation. The generated packages declare one
// per operation of api/openapi.yaml; the transport and the error messages
// read it.
type Operation struct {
	// ID is the operationId in api/openapi.yaml.
	ID string
	// Name is the Go method that sends the operation, with its area:
	// "Payments.NativePrepay". The direct and partner variants of one
	// operation share the name of their mode-independent method. Errors
	// name it.
	Name string
	// Method and Path are the HTTP method and the path template.
	Method, Path string
	// Modes are the merchant modes the operation serves.
	Modes Modes
	// Unsigned reports that the success response carries no WeChat Pay
	// signature (file downloads); its integrity is checked by digest.
	Unsigned bool
	// Sensitive lists the JSON paths of the request fields the client
	// encrypts with the platform key; "*" stands for every array element.
	Sensitive [][]string
	// SensitiveQuery lists the query parameters the client encrypts with
	// the platform key (a bank card number in a lookup, say).
	SensitiveQuery []string
	// Upload reports a multipart upload, whose signature covers only the
	// meta part.
	Upload bool
	// MetaFileDigest reports a typed upload meta with filename and sha256
	// properties, which the client fills from the file when they are
	// empty.
	MetaFileDigest bool
	// MetaSM3Digest reports a typed upload meta with digest_alogrithm and
	// digest properties (the 电子发票 file upload): the client fills an
	// empty digest with the file's SM3 digest (and an empty algorithm with
	// "SM3").
	MetaSM3Digest bool
	// MetaSHA256 reports a typed upload meta with a sha256 property but no
	// filename: the client fills an empty sha256 from the file.
	MetaSHA256 bool
	// FilePart is the form name of an upload's file part when WeChat Pay
	// wants another than "file" (due_diligence_file, say).
	FilePart string
	// ResendSafe reports that the request may be sent again after the
	// server may have received it: a POST or PATCH whose body carries a
	// business key (out_trade_no, out_refund_no …) that makes WeChat Pay
	// answer a repeat with the first outcome, or that carries an
	// Idempotency-Key. api/openapi.yaml marks them x-wxpay-resend: safe.
	// Other POSTs and PATCHes are sent again only when the request
	// provably never reached the server. GET, PUT and DELETE are always
	// safe to repeat.
	ResendSafe bool
}

// EventType says which Go type the decrypted resource of a notification
// event type decodes into. Each generated area package lists its own with
// Events(); callback.Config.Events takes them. When several share an event
// type, the first whose Key is a property of the resource wins, and one
// without a Key is the fallback.
type EventType struct {
	// Type is the event_type, e.g. TRANSACTION.SUCCESS.
	Type string
	// Key, when set, is a JSON property that only this declaration's
	// resources carry (parking_info, say).
	Key string
	// New returns a pointer to a new value of the resource's type.
	New func() any
}
