package core

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"mime/multipart"
	"net/textproto"
	"path"
	"strings"

	"github.com/gowxpay/wxpay/internal/sm3"
)

// File is a file to upload: images and videos for merchant media, complaint
// evidence, invoices.
type File struct {
	// Name is the file name WeChat Pay records, with its extension
	// (image.jpg); the extension decides the accepted types.
	Name string
	// ContentType is the MIME type (image/jpeg, image/png, video/mp4);
	// guessed from Name's extension when empty.
	ContentType string
	// Data is the content.
	Data []byte
}

// uploadMeta is the meta part of a media upload. Its JSON, exactly as sent,
// is what the request signature covers.
type uploadMeta struct {
	Filename string `json:"filename"`
	SHA256   string `json:"sha256"`
}

var contentTypes = map[string]string{
	".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png", ".bmp": "image/bmp",
	".gif": "image/gif", ".mp4": "video/mp4", ".avi": "video/x-msvideo", ".wmv": "video/x-ms-wmv",
	".mpeg": "video/mpeg", ".mov": "video/quicktime", ".mkv": "video/x-matroska", ".flv": "video/x-flv",
	".f4v": "video/x-f4v", ".m4v": "video/x-m4v", ".rmvb": "application/vnd.rn-realmedia-vbr",
	".pdf": "application/pdf", ".ofd": "application/ofd",
}

// UploadFile is plumbing for the generated packages: it sends f as a
// WeChat Pay media upload: a multipart/form-data body
// with a meta part {"filename","sha256"} and a file part, signed over the
// meta JSON only, as the protocol requires. The answer is decoded into out.
func (c *Conn) UploadFile(ctx context.Context, op *Operation, uri string, f File, out any, opts []CallOption) error {
	sum := sha256.Sum256(f.Data)
	return c.UploadWithMeta(ctx, op, uri, uploadMeta{Filename: f.Name, SHA256: hex.EncodeToString(sum[:])}, f, out, opts)
}

// UploadWithMeta is plumbing for the generated packages: it sends f as a
// multipart/form-data upload whose meta part is
// the JSON of meta, for uploads whose meta is not {"filename","sha256"} (an
// invoice file's {sub_mchid, file_type, digest_alogrithm, digest}, say).
// The signature covers the meta JSON exactly as sent.
func (c *Conn) UploadWithMeta(ctx context.Context, op *Operation, uri string, meta any, f File, out any, opts []CallOption) error {
	if err := c.checkCall(ctx, op); err != nil {
		return err
	}
	if f.Name == "" || len(f.Data) == 0 {
		return &UsageError{Op: op.Name, Msg: "the file needs a Name and Data"}
	}
	metaJSON, err := json.Marshal(meta)
	if err != nil {
		return fmt.Errorf("wxpay: %s: encoding the upload meta: %w", op.Name, err)
	}
	if op.MetaSM3Digest {
		if metaJSON, err = fillSM3Digest(metaJSON, f.Data); err != nil {
			return fmt.Errorf("wxpay: %s: %w", op.ID, err)
		}
	}
	if op.MetaFileDigest || op.MetaSHA256 {
		var fields map[string]any
		dec := json.NewDecoder(bytes.NewReader(metaJSON))
		dec.UseNumber()
		if err := dec.Decode(&fields); err != nil {
			return fmt.Errorf("wxpay: %s: the upload meta is not a JSON object: %w", op.Name, err)
		}
		if s, _ := fields["filename"].(string); s == "" && op.MetaFileDigest {
			fields["filename"] = f.Name
		}
		if s, _ := fields["sha256"].(string); s == "" {
			sum := sha256.Sum256(f.Data)
			fields["sha256"] = hex.EncodeToString(sum[:])
		}
		if metaJSON, err = json.Marshal(fields); err != nil {
			return fmt.Errorf("wxpay: %s: encoding the upload meta: %w", op.Name, err)
		}
	}
	var serial string
	if len(op.Sensitive) > 0 {
		// sensitive meta fields are encrypted before the meta is signed
		if metaJSON, serial, err = c.encryptFields(ctx, op, metaJSON); err != nil {
			return err
		}
	}
	return c.uploadMultipart(ctx, op, uri, metaJSON, f, serial, out, opts)
}

func (c *Conn) uploadMultipart(ctx context.Context, op *Operation, uri string, meta []byte, f File, serial string, out any, opts []CallOption) error {
	ct := f.ContentType
	if ct == "" {
		ct = contentTypes[strings.ToLower(path.Ext(f.Name))]
		if ct == "" {
			ct = "application/octet-stream"
		}
	}
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	mh := textproto.MIMEHeader{}
	mh.Set("Content-Disposition", `form-data; name="meta"`)
	mh.Set("Content-Type", "application/json")
	part, err := w.CreatePart(mh)
	if err != nil {
		return err
	}
	part.Write(meta)
	name := op.FilePart
	if name == "" {
		name = "file"
	}
	fh := textproto.MIMEHeader{}
	fh.Set("Content-Disposition", `form-data; name="`+escapeQuotes(name)+`"; filename="`+escapeQuotes(f.Name)+`"`)
	fh.Set("Content-Type", ct)
	part, err = w.CreatePart(fh)
	if err != nil {
		return err
	}
	part.Write(f.Data)
	if err := w.Close(); err != nil {
		return err
	}
	return c.upload(ctx, op, uri, meta, body.Bytes(), w.FormDataContentType(), serial, out, opts)
}

var quoteEscaper = strings.NewReplacer("\\", "\\\\", `"`, "\\\"")

func escapeQuotes(s string) string { return quoteEscaper.Replace(s) }

// fillSM3Digest fills the digest of an upload meta whose digest_alogrithm
// (WeChat Pay's spelling) is SM3 or empty, with the SM3 digest of data. A
// digest the caller set is kept: the server checks it.
func fillSM3Digest(metaJSON, data []byte) ([]byte, error) {
	var fields map[string]any
	dec := json.NewDecoder(bytes.NewReader(metaJSON))
	dec.UseNumber()
	if err := dec.Decode(&fields); err != nil {
		return nil, fmt.Errorf("the upload meta is not a JSON object: %w", err)
	}
	alg, _ := fields["digest_alogrithm"].(string)
	if d, _ := fields["digest"].(string); d != "" {
		return metaJSON, nil
	}
	switch alg {
	case "":
		fields["digest_alogrithm"] = "SM3"
	case "SM3":
	default:
		return nil, fmt.Errorf("the meta's digest_alogrithm %q is not SM3, the only one the client computes: give the digest", alg)
	}
	fields["digest"] = sm3.Hex(data)
	return json.Marshal(fields)
}
