// Package sm3 is the SM3 hash function (GB/T 32905-2016), the digest the
// 电子发票 (fapiao) file upload carries. SM3 is a public hash; this small
// implementation is here so that every program can upload invoice files
// without the opt-in 国密 suite (package wxpay/sm and its dependency,
// gmsm), which signing and encryption need. It hashes nothing secret, so it
// need not be constant-time, and it is not tuned for speed.
package sm3

import (
	"encoding/binary"
	"encoding/hex"
	"math/bits"
)

// Hex returns the lower-case hex SM3 digest of data.
func Hex(data []byte) string {
	v := [8]uint32{0x7380166f, 0x4914b2b9, 0x172442d7, 0xda8a0600, 0xa96f30bc, 0x163138aa, 0xe38dee4d, 0xb0fb0e4e}
	n := len(data)
	for len(data) >= 64 {
		block(&v, data[:64])
		data = data[64:]
	}
	var tail [128]byte
	k := copy(tail[:], data)
	tail[k] = 0x80
	end := 64
	if k+1+8 > 64 {
		end = 128
	}
	binary.BigEndian.PutUint64(tail[end-8:end], uint64(n)*8)
	block(&v, tail[:64])
	if end == 128 {
		block(&v, tail[64:128])
	}
	var out [32]byte
	for i, x := range v {
		binary.BigEndian.PutUint32(out[4*i:], x)
	}
	return hex.EncodeToString(out[:])
}

func p0(x uint32) uint32 { return x ^ bits.RotateLeft32(x, 9) ^ bits.RotateLeft32(x, 17) }
func p1(x uint32) uint32 { return x ^ bits.RotateLeft32(x, 15) ^ bits.RotateLeft32(x, 23) }

// block compresses one 64-byte block into v.
func block(v *[8]uint32, block []byte) {
	var w [68]uint32
	for i := 0; i < 16; i++ {
		w[i] = binary.BigEndian.Uint32(block[4*i:])
	}
	for j := 16; j < 68; j++ {
		w[j] = p1(w[j-16]^w[j-9]^bits.RotateLeft32(w[j-3], 15)) ^ bits.RotateLeft32(w[j-13], 7) ^ w[j-6]
	}
	a, b, c, d, e, f, g, h := v[0], v[1], v[2], v[3], v[4], v[5], v[6], v[7]
	for j := 0; j < 64; j++ {
		t := uint32(0x79cc4519)
		if j >= 16 {
			t = 0x7a879d8a
		}
		a12 := bits.RotateLeft32(a, 12)
		ss1 := bits.RotateLeft32(a12+e+bits.RotateLeft32(t, j%32), 7)
		ss2 := ss1 ^ a12
		var ff, gg uint32
		if j < 16 {
			ff, gg = a^b^c, e^f^g
		} else {
			ff, gg = (a&b)|(a&c)|(b&c), (e&f)|(^e&g)
		}
		tt1 := ff + d + ss2 + (w[j] ^ w[j+4])
		tt2 := gg + h + ss1 + w[j]
		d, c, b, a = c, bits.RotateLeft32(b, 9), a, tt1
		h, g, f, e = g, bits.RotateLeft32(f, 19), e, p0(tt2)
	}
	v[0] ^= a
	v[1] ^= b
	v[2] ^= c
	v[3] ^= d
	v[4] ^= e
	v[5] ^= f
	v[6] ^= g
	v[7] ^= h
}
