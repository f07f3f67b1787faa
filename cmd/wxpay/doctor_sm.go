package main

import (
	"crypto"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/gowxpay/wxpay/auth"
)

// checkAlgorithm reports the algorithm the configuration asks for (RSA, or
// SM2 for 国密) and the algorithm of each credential file, and fails on a
// mix: an SM2 key with an RSA certificate, RSA files in an SM2
// configuration, and so on.
func (d *doctorRun) checkAlgorithm() {
	suite, err := d.s.suite()
	if err != nil {
		d.add(vFail, "algorithm", err.Error(), "use RSA (the default) or SM2 with "+flagOf("algorithm"))
		d.algBad = true
		return
	}
	d.suite = suite
	want := "RSA"
	if suite != nil {
		want = suite.Name()
	}
	type cred struct{ name, alg string }
	var creds []cred
	for _, k := range []struct{ key, name string }{
		{"private_key_file", "private key"},
		{"certificate_file", "merchant certificate"},
		{"public_key_file", "WeChat Pay public key"},
	} {
		if !d.s.has(k.key) {
			continue
		}
		b, err := pemSetting(d.s, k.key)
		if err != nil || b == nil {
			continue
		}
		if alg := auth.KeyAlgorithm(b); alg != "" {
			creds = append(creds, cred{k.name, alg})
		}
	}
	for _, p := range d.s.platformCerts {
		files := []string{p}
		if st, err := os.Stat(p); err == nil && st.IsDir() {
			files, _ = filepath.Glob(filepath.Join(p, "*.pem"))
		}
		for _, f := range files {
			if b, err := os.ReadFile(f); err == nil {
				if alg := auth.KeyAlgorithm(b); alg != "" {
					creds = append(creds, cred{"platform cert " + filepath.Base(f), alg})
				}
			}
		}
	}
	var parts, wrong []string
	algs := map[string]bool{}
	for _, c := range creds {
		parts = append(parts, c.name+" "+c.alg)
		algs[c.alg] = true
		if c.alg != want {
			wrong = append(wrong, c.name+" is "+c.alg)
		}
	}
	src := d.from("algorithm")
	if src == "" {
		src = " (the default)"
	}
	detail := want + src
	if len(parts) > 0 {
		detail += ": " + strings.Join(parts, ", ")
	}
	switch {
	case len(wrong) == 0:
		d.add(vOK, "algorithm", detail, "")
	case len(algs) > 1:
		d.algBad = true
		d.add(vFail, "algorithm", "the credentials mix RSA and SM2 (国密): "+strings.Join(parts, ", ")+"; configured "+want+src,
			"a merchant signs with one suite at a time: give the RSA files (apiclient_key.pem, apiclient_cert.pem, pub_key.pem of the RSA API certificate) or the SM2 ones, all from the same suite, and set "+flagOf("algorithm")+" to match")
	default:
		d.algBad = true
		d.add(vFail, "algorithm", fmt.Sprintf("configured %s%s, but %s", want, src, strings.Join(wrong, ", ")),
			"add --algorithm "+creds[0].alg+" ($WXPAY_ALGORITHM, \"algorithm\" in the configuration file) to use these files, or give the "+want+" credentials")
	}
}

// checkSMPrivateKey is checkPrivateKey for a 国密 (SM2) merchant.
func (d *doctorRun) checkSMPrivateKey() {
	v := d.s.vals["private_key_file"]
	if v.value == "" && v.pem == nil {
		d.add(vFail, "private key", "missing", "give "+flagOf("private_key_file")+": the SM2 apiclient_key.pem of the 国密 API certificate")
		return
	}
	b, err := pemSetting(d.s, "private_key_file")
	if err != nil {
		d.add(vFail, "private key", fmt.Sprintf("cannot read %s: %v", v.value, unwrapPath(err)), "check the path and that this user may read the file")
		return
	}
	key, err := d.suite.ParsePrivateKey(b)
	if err != nil {
		d.add(vFail, "private key", err.Error()+d.from("private_key_file"), "give the SM2 apiclient_key.pem (-----BEGIN PRIVATE KEY-----)")
		return
	}
	d.signer = auth.SuiteSigner{Suite: d.suite, Key: key}
	d.smKey = key
	detail := d.suite.Name() + d.from("private_key_file")
	if v.value != "" {
		if st, err := os.Stat(v.value); err == nil && st.Mode().Perm()&0o077 != 0 {
			d.add(vWarn, "private key", fmt.Sprintf("%s; the file is readable by other users (%s)", detail, st.Mode().Perm()), "chmod 600 "+v.value)
			return
		}
	}
	d.add(vOK, "private key", detail, "")
}

// checkSMCertificate is checkCertificate for a 国密 (SM2) merchant.
func (d *doctorRun) checkSMCertificate() {
	v := d.s.vals["certificate_file"]
	if v.value == "" && v.pem == nil {
		d.add(vOK, "merchant certificate", "not given (optional: only its serial number is needed)", "")
		return
	}
	b, err := pemSetting(d.s, "certificate_file")
	if err != nil {
		d.add(vFail, "merchant certificate", fmt.Sprintf("cannot read %s: %v", v.value, unwrapPath(err)), "check the path, or give the serial number alone with "+flagOf("serial_no"))
		return
	}
	cert, err := auth.ParseSuiteCertificate(d.suite, b)
	if err != nil {
		d.add(vFail, "merchant certificate", strings.TrimPrefix(err.Error(), "auth: ")+d.from("certificate_file"), "give the SM2 apiclient_cert.pem issued with the SM2 apiclient_key.pem")
		return
	}
	serial := auth.SerialNumber(cert)
	if d.smKey != nil {
		if _, err := auth.SuiteMerchantSerial(d.suite, cert, d.smKey); err != nil {
			d.add(vFail, "merchant certificate", strings.TrimPrefix(err.Error(), "auth: "), "use the SM2 apiclient_cert.pem and apiclient_key.pem issued together")
			return
		}
	}
	d.cert = cert
	until := cert.NotAfter.Format(time.DateOnly)
	if time.Now().After(cert.NotAfter) {
		d.add(vFail, "merchant certificate", fmt.Sprintf("%s certificate, serial %s, expired on %s", d.suite.Name(), serial, until), "apply for a new 国密 API certificate in the merchant platform")
		return
	}
	d.add(vOK, "merchant certificate", fmt.Sprintf("%s, serial %s, valid until %s", d.suite.Name(), serial, until), "")
}

// checkSMPublicKey is checkPublicKey for a 国密 (SM2) merchant.
func (d *doctorRun) checkSMPublicKey() {
	id := d.s.get("public_key_id")
	hasKey := d.s.has("public_key_file")
	needed := d.modeOK && d.mode != auth.CertificateMode
	if id == "" && !hasKey {
		if needed {
			d.add(vFail, "WeChat Pay public key", "missing: "+d.mode.String()+" mode verifies answers with it", "give "+flagOf("public_key_id")+" and "+flagOf("public_key_file")+" (the SM2 微信支付公钥)")
		}
		return
	}
	if err := auth.CheckPublicKeyID(id); err != nil {
		d.add(vFail, "WeChat Pay public key", strings.TrimPrefix(err.Error(), "auth: ")+d.from("public_key_id"), "give the id shown with the key, PUB_KEY_ID_ followed by digits")
		return
	}
	b, err := pemSetting(d.s, "public_key_file")
	if err != nil || b == nil {
		d.add(vFail, "WeChat Pay public key", id+": the key file cannot be read", "give pub_key.pem with "+flagOf("public_key_file"))
		return
	}
	pub, err := d.suite.ParsePublicKey(b)
	if err != nil {
		d.add(vFail, "WeChat Pay public key", err.Error()+d.from("public_key_file"), "give the SM2 pub_key.pem (-----BEGIN PUBLIC KEY-----)")
		return
	}
	if d.smKey != nil {
		if eq, ok := d.smKey.Public().(interface{ Equal(crypto.PublicKey) bool }); ok && eq.Equal(pub) {
			d.add(vFail, "WeChat Pay public key", "is the merchant's own key", "use pub_key.pem from 商户平台 → 账户中心 → API安全 → 微信支付公钥")
			return
		}
	}
	d.pubOK = true
	detail := id + ", " + d.suite.Name()
	if !needed {
		detail += " (configured but unused in certificate mode)"
	}
	d.add(vOK, "WeChat Pay public key", detail, "")
}
