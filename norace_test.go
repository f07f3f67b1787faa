//go:build !race

package wxpay_test

const raceEnabled = false
