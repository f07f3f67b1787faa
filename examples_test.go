package wxpay_test

import (
	"os"
	"os/exec"
	"testing"
)

// TestExamplesModule runs the tests of the examples module (framework
// integrations), which has its own go.mod so that gin, echo, fiber and chi
// never enter the library's module graph. It lets `go test ./...` stand for
// the whole test suite.
func TestExamplesModule(t *testing.T) {
	t.Parallel()
	if testing.Short() {
		t.Skip("runs the examples module's tests with the go command")
	}
	args := []string{"test"}
	if raceEnabled {
		args = append(args, "-race")
	}
	args = append(args, "./...")
	cmd := exec.Command("go", args...)
	cmd.Dir = "examples"
	cmd.Env = append(os.Environ(), "GOWORK=off")
	out, err := cmd.CombinedOutput()
	t.Logf("examples: go %v\n%s", args, out)
	if err != nil {
		t.Fatalf("the examples module's tests failed: %v", err)
	}
}
