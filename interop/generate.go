package interop

//go:generate go run ./internal/listops
