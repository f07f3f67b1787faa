package main

import (
	"io"
	"strings"

	"rsc.io/qr"
)

// qrQuiet is the quiet zone around a QR code, in modules. The standard asks
// for four; two is what terminal renderers use and phones read.
const qrQuiet = 2

// writeQR draws text as a QR code with Unicode half blocks, two rows of
// modules per line, each line prefixed with indent. Light modules are drawn
// (█, ▀, ▄) and dark ones left blank, the convention of `qrencode -t UTF8`
// for terminals with light text on a dark background; phones read the
// inverse as well.
func writeQR(w io.Writer, text, indent string) error {
	code, err := qr.Encode(text, qr.L)
	if err != nil {
		return err
	}
	_, err = io.WriteString(w, renderQR(code.Size, code.Black, indent))
	return err
}

// renderQR renders a size×size module grid (dark(x, y) reports a dark
// module) with its quiet zone.
func renderQR(size int, dark func(x, y int) bool, indent string) string {
	light := func(x, y int) bool {
		if x < 0 || y < 0 || x >= size || y >= size {
			return true // quiet zone
		}
		return !dark(x, y)
	}
	var b strings.Builder
	for y := -qrQuiet; y < size+qrQuiet; y += 2 {
		b.WriteString(indent)
		for x := -qrQuiet; x < size+qrQuiet; x++ {
			top, bottom := light(x, y), light(x, y+1)
			if y+1 >= size+qrQuiet {
				bottom = false // below the code: nothing drawn
			}
			switch {
			case top && bottom:
				b.WriteString("█")
			case top:
				b.WriteString("▀")
			case bottom:
				b.WriteString("▄")
			default:
				b.WriteString(" ")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}
