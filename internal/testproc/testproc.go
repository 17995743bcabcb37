// Package testproc runs the test binary again as a helper process: a
// server or a card that a benchmark wants out of its own process (its own
// Go runtime, as in production). The child is told what to be by an
// environment variable its TestMain (or test) looks at.
package testproc

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"testing"
)

// Start re-executes the test binary with run as its -test.run pattern and
// env added to the environment, decodes the first line the child prints
// (JSON) into ready, and returns. The child must serve until its standard
// input closes, which happens when the test ends.
func Start(t testing.TB, run string, env []string, ready any) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+run)
	cmd.Env = append(os.Environ(), env...)
	cmd.Stderr = os.Stderr
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatalf("testproc: %v", err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("testproc: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("testproc: start %s: %v", os.Args[0], err)
	}
	t.Cleanup(func() {
		_ = stdin.Close()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadBytes('\n')
	if err != nil {
		t.Fatalf("testproc: the helper process ended before it was ready: %v", err)
	}
	if err := json.Unmarshal(line, ready); err != nil {
		t.Fatalf("testproc: the helper process said %q: %v", line, err)
	}
}

// Serve is the child's side: it prints ready as one JSON line and returns
// when standard input closes (the parent's test ended).
func Serve(ready any) error {
	if err := json.NewEncoder(os.Stdout).Encode(ready); err != nil {
		return fmt.Errorf("testproc: %w", err)
	}
	_, err := io.Copy(io.Discard, os.Stdin)
	return err
}
