// Package deploy holds the container topology's files (nginx.conf, the env
// file template); this test validates docker-compose.yml with the compose
// tool from Debian's packages (images are not built here: see README).
package deploy

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"gopkg.in/yaml.v3"

	"github.com/volcard/volcard/internal/ci"
)

// TestComposeFile checks the compose file as docker-compose resolves it:
// PostgreSQL, two serve replicas behind the proxy, the bank simulator,
// health checks, volumes, secrets only from the env file.
func TestComposeFile(t *testing.T) {
	tool, err := exec.LookPath("docker-compose")
	if err != nil {
		if ci.Enabled() {
			t.Fatal("docker-compose is not installed (scripts/deps.sh test installs Debian's docker-compose)")
		}
		t.Skip("docker-compose not installed: sudo apt-get install docker-compose")
	}
	// A project directory with the env file made from its template, as an
	// operator's first step makes it.
	dir := t.TempDir()
	copyFile(t, "../docker-compose.yml", filepath.Join(dir, "docker-compose.yml"))
	require.NoError(t, os.MkdirAll(filepath.Join(dir, "deploy"), 0o700))
	copyFile(t, "nginx.conf", filepath.Join(dir, "deploy", "nginx.conf"))
	copyFile(t, "volcard.env.example", filepath.Join(dir, "deploy", "volcard.env"))
	out, err := exec.Command(tool, "-f", filepath.Join(dir, "docker-compose.yml"), "config").CombinedOutput()
	require.NoError(t, err, "%s", out)

	var cfg struct {
		Services map[string]struct {
			Image       string
			Command     []string
			Environment map[string]string
			Healthcheck struct{ Test []string }
			Volumes     []any
			DependsOn   map[string]struct{ Condition string } `yaml:"depends_on"`
		}
		Volumes map[string]any
	}
	require.NoError(t, yaml.Unmarshal(out, &cfg), "%s", out)
	for _, name := range []string{"postgres", "banksim", "platformsim", "serve1", "serve2", "proxy"} {
		require.Contains(t, cfg.Services, name)
	}
	for _, name := range []string{"serve1", "serve2"} {
		s := cfg.Services[name]
		require.Equal(t, "serve", s.Command[0], name)
		require.Equal(t, []string{"CMD", "volcard", "healthcheck"}, s.Healthcheck.Test, name)
		require.Equal(t, "banksim:8583", s.Environment["VOLCARD_BANK_ADDR"], name)
		require.Equal(t, "http://platformsim:8586", s.Environment["VOLCARD_PLATFORM_URL"], name+": one platform simulator for both replicas")
		require.NotEmpty(t, s.Environment["VOLCARD_PLATFORM_TOKEN"], "%s gets the platform token from the env file", name)
		require.NotEmpty(t, s.Volumes, "%s keeps its data directory on a volume", name)
		require.Contains(t, s.Environment, "VOLCARD_DATA_KEY", "%s gets the data key from the env file", name)
	}
	require.Equal(t, "service_healthy", cfg.Services["serve2"].DependsOn["serve1"].Condition, "the second replica waits for the first (migrations, seed)")
	require.Equal(t, "service_healthy", cfg.Services["serve1"].DependsOn["postgres"].Condition)
	require.Contains(t, cfg.Volumes, "pgdata")

	// No secret is written in the compose file itself.
	raw, err := os.ReadFile("../docker-compose.yml")
	require.NoError(t, err)
	for _, secret := range []string{"VOLCARD_DATA_KEY", "POSTGRES_PASSWORD", "VOLCARD_BANK_MAC_KEY", "VOLCARD_DATABASE_URL", "VOLCARD_PLATFORM_TOKEN"} {
		require.NotContains(t, string(raw), secret+":", "%s belongs in the env file", secret)
	}
	conf, err := os.ReadFile("nginx.conf")
	require.NoError(t, err)
	for _, name := range []string{"serve1:8080", "serve2:8080"} {
		require.True(t, strings.Contains(string(conf), name), "the proxy spreads over %s", name)
	}
}

func copyFile(t *testing.T, from, to string) {
	t.Helper()
	b, err := os.ReadFile(from)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(to, b, 0o600))
}
