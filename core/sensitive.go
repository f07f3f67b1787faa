package core

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"slices"
	"strings"
)

// encryptFields encrypts, in the JSON payload, every non-empty string at one
// of op's sensitive paths, and returns the new payload and the serial of the
// key used. The caller's value is never touched: the work happens on the
// encoded bytes, once per call, so a retry resends the same ciphertext.
func (c *Conn) encryptFields(ctx context.Context, op *Operation, payload []byte) ([]byte, string, error) {
	if !mayContain(payload, op.Sensitive) {
		return payload, "", nil
	}
	dec := json.NewDecoder(bytes.NewReader(payload))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, "", fmt.Errorf("wxpay: %s: %w", op.Name, err)
	}
	var targets []fieldRef
	for _, p := range op.Sensitive {
		collect(doc, p, &targets)
	}
	if len(targets) == 0 {
		return payload, "", nil
	}
	serial, encrypt, err := c.encryptor(ctx, op)
	if err != nil {
		return nil, "", err
	}
	for _, t := range targets {
		ct, err := encrypt(t.get())
		if err != nil {
			return nil, "", fmt.Errorf("wxpay: %s: encrypting a sensitive field: %w", op.Name, err)
		}
		t.set(ct)
	}
	out, err := json.Marshal(doc)
	if err != nil {
		return nil, "", fmt.Errorf("wxpay: %s: %w", op.Name, err)
	}
	return out, serial, nil
}

// mayContain reports whether payload can hold a value at one of paths: the
// encoded JSON must contain every key of the path. Optional objects are
// omitted when empty, so most requests without sensitive values are told
// apart without decoding them.
func mayContain(payload []byte, paths [][]string) bool {
	var key []byte
	for _, p := range paths {
		all := true
		for _, k := range p {
			if k == "*" {
				continue
			}
			key = append(append(append(key[:0], '"'), k...), '"', ':')
			if !bytes.Contains(payload, key) {
				all = false
				break
			}
		}
		if all {
			return true
		}
	}
	return false
}

// fieldRef is a string slot inside a decoded JSON document.
type fieldRef struct {
	obj map[string]any
	arr []any
	key string
	idx int
}

func (f fieldRef) get() string {
	if f.obj != nil {
		return f.obj[f.key].(string)
	}
	return f.arr[f.idx].(string)
}

func (f fieldRef) set(s string) {
	if f.obj != nil {
		f.obj[f.key] = s
	} else {
		f.arr[f.idx] = s
	}
}

// collect appends the non-empty strings found at path below v.
func collect(v any, path []string, out *[]fieldRef) {
	if len(path) == 0 {
		return
	}
	head, rest := path[0], path[1:]
	switch x := v.(type) {
	case map[string]any:
		if head == "*" {
			return
		}
		child, ok := x[head]
		if !ok {
			return
		}
		if len(rest) == 0 {
			if s, ok := child.(string); ok && s != "" {
				*out = append(*out, fieldRef{obj: x, key: head})
			}
			return
		}
		collect(child, rest, out)
	case []any:
		if head != "*" {
			return
		}
		for i, e := range x {
			if len(rest) == 0 {
				if s, ok := e.(string); ok && s != "" {
					*out = append(*out, fieldRef{arr: x, idx: i})
				}
				continue
			}
			collect(e, rest, out)
		}
	}
}

// encryptQuery encrypts the non-empty values of op's sensitive query
// parameters in uri (path and query, as built by URI) and returns the new
// uri and the serial of the key used ("" when there was nothing to
// encrypt). Encryption is randomised, so it happens once per call: a retry
// resends the same ciphertext.
func (c *Conn) encryptQuery(ctx context.Context, op *Operation, uri string) (string, string, error) {
	path, query, ok := strings.Cut(uri, "?")
	if !ok {
		return uri, "", nil
	}
	pairs := strings.Split(query, "&")
	var encrypt func(string) (string, error)
	var serial string
	for i, pair := range pairs {
		k, v, _ := strings.Cut(pair, "=")
		if v == "" || !slices.Contains(op.SensitiveQuery, k) {
			continue
		}
		plain, err := url.QueryUnescape(v)
		if err != nil {
			return "", "", &UsageError{Op: op.Name, Msg: "query parameter " + k + " is not properly escaped"}
		}
		if encrypt == nil {
			if serial, encrypt, err = c.encryptor(ctx, op); err != nil {
				return "", "", err
			}
		}
		ct, err := encrypt(plain)
		if err != nil {
			return "", "", fmt.Errorf("wxpay: %s: encrypting a sensitive field: %w", op.Name, err)
		}
		pairs[i] = k + "=" + url.QueryEscape(ct)
	}
	if encrypt == nil {
		return uri, "", nil
	}
	return path + "?" + strings.Join(pairs, "&"), serial, nil
}

// encryptor returns the platform key's serial and encryption function for
// op's sensitive values.
func (c *Conn) encryptor(ctx context.Context, op *Operation) (string, func(string) (string, error), error) {
	if c.enc == nil {
		return "", nil, &UsageError{Op: op.Name, Msg: "the request carries sensitive fields but the client has no platform key to encrypt them with"}
	}
	serial, encrypt, err := c.enc.Encryptor(ctx)
	if err != nil {
		return "", nil, fmt.Errorf("wxpay: %s: encrypting sensitive fields: %w", op.Name, err)
	}
	return serial, encrypt, nil
}
