//go:build race

package wxpay_test

const raceEnabled = true
