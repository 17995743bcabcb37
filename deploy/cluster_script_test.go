package deploy

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/volcard/volcard/issuance/store/storetest"
)

func freePort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// TestClusterScript runs scripts/cluster.sh (make cluster), the plain-process
// topology, as an operator would: both serve processes answer with one
// database behind them (the admin token of the first works on the second),
// and Ctrl-C stops every process and drops the database.
func TestClusterScript(t *testing.T) {
	admin := storetest.PostgresURL(t) // skips, or fails under CI=true, without PostgreSQL
	dir := t.TempDir()
	p1, p2, pb, pp := freePort(t), freePort(t), freePort(t), freePort(t)
	cmd := exec.Command("bash", "../scripts/cluster.sh")
	cmd.Env = append(os.Environ(), "VOLCARD_TEST_DATABASE_URL="+admin, "CLUSTER_DIR="+dir,
		fmt.Sprintf("CLUSTER_PORTS=%d %d %d %d", p1, p2, pb, pp))
	cmd.Stderr = os.Stderr
	out, err := cmd.StdoutPipe()
	require.NoError(t, err)
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	require.NoError(t, cmd.Start())
	done := make(chan error, 1)
	go func() { done <- cmd.Wait() }()
	t.Cleanup(func() {
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) // whatever is left, if the test failed midway
	})

	ready := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			if strings.Contains(sc.Text(), "ready") {
				ready <- sc.Text()
			}
		}
	}()
	select {
	case line := <-ready:
		t.Log(line)
	case err := <-done:
		t.Fatalf("cluster.sh ended before it was ready: %v", err)
	case <-time.After(3 * time.Minute):
		t.Fatal("cluster.sh not ready after 3 minutes")
	}

	tok, err := os.ReadFile(filepath.Join(dir, "serve1", "admin.token"))
	require.NoError(t, err)
	for _, port := range []int{p1, p2} {
		req, _ := http.NewRequest("GET", fmt.Sprintf("http://127.0.0.1:%d/v1/orgs?parent=1", port), nil)
		req.Header.Set("Authorization", "Bearer "+strings.TrimSpace(string(tok)))
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		require.Equal(t, http.StatusOK, res.StatusCode, "port %d: %s", port, body)
		require.Contains(t, string(body), "广州市", "port %d serves the seeded database", port)
	}

	require.NoError(t, syscall.Kill(-cmd.Process.Pid, syscall.SIGINT)) // Ctrl-C in the terminal
	select {
	case <-done:
	case <-time.After(60 * time.Second):
		t.Fatal("cluster.sh did not stop within 60 s of Ctrl-C")
	}
	for _, port := range []int{p1, p2, pb} {
		c, err := net.DialTimeout("tcp", fmt.Sprintf("127.0.0.1:%d", port), time.Second)
		if err == nil {
			c.Close()
			t.Errorf("port %d still listening after Ctrl-C", port)
		}
	}
}
