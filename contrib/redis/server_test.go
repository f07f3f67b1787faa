package wxredis_test

import (
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// server is a redis-server this test started, on a loopback port, with
// its data in a temporary directory. Persistence is the append-only file
// with a fsync before every answer (appendfsync always): what Redis
// acknowledged survives a kill -9, which TestReplicas relies on.
type server struct {
	t    testing.TB
	bin  string
	dir  string
	port int

	mu  sync.Mutex
	cmd *exec.Cmd

	dialErrors atomic.Int64 // failed connection attempts of Client's clients
}

// startServer starts redis-server. Without it the test is skipped, unless
// CI=true, where it fails: CI installs redis-server (.ci/run).
func startServer(t testing.TB) *server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		if os.Getenv("CI") == "true" {
			t.Fatal("redis-server is not installed, and CI=true: .ci/run must install it (apt-get install -y redis-server)")
		}
		t.Skip("redis-server is not installed (apt-get install -y redis-server); skipping the tests against a real Redis")
	}
	s := &server{t: t, bin: bin, dir: t.TempDir(), port: freePort(t)}
	s.start()
	t.Cleanup(s.stop)
	return s
}

func freePort(t testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// Addr is the server's address.
func (s *server) Addr() string { return "127.0.0.1:" + strconv.Itoa(s.port) }

// Client returns a new client of the server, closed with the test. It
// retries for about 20 seconds, long enough to ride out a restart on a busy
// machine, and counts its failed connection attempts in s.dialErrors.
func (s *server) Client() *redis.Client {
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: 100, MinRetryBackoff: 10 * time.Millisecond, MaxRetryBackoff: 200 * time.Millisecond})
	c.AddHook(dialCounter{&s.dialErrors})
	s.t.Cleanup(func() { c.Close() })
	return c
}

// dialCounter counts failed connection attempts.
type dialCounter struct{ n *atomic.Int64 }

func (d dialCounter) DialHook(next redis.DialHook) redis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) {
		c, err := next(ctx, network, addr)
		if err != nil {
			d.n.Add(1)
		}
		return c, err
	}
}

func (d dialCounter) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }

func (d dialCounter) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return next
}

func (s *server) start() {
	s.t.Helper()
	cmd := exec.Command(s.bin,
		"--port", strconv.Itoa(s.port), "--bind", "127.0.0.1", "--dir", s.dir,
		"--save", "", "--appendonly", "yes", "--appendfsync", "always",
		"--daemonize", "no", "--logfile", "")
	cmd.Stdout, cmd.Stderr = nil, nil
	if err := cmd.Start(); err != nil {
		s.t.Fatalf("starting redis-server: %v", err)
	}
	s.mu.Lock()
	s.cmd = cmd
	s.mu.Unlock()
	// Wait until it answers.
	c := redis.NewClient(&redis.Options{Addr: s.Addr(), MaxRetries: -1})
	defer c.Close()
	deadline := time.Now().Add(30 * time.Second)
	for {
		err := c.Ping(context.Background()).Err()
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("redis-server on %s does not answer: %v", s.Addr(), err)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// kill stops the server with SIGKILL: no chance to save anything more.
func (s *server) kill() {
	s.mu.Lock()
	cmd := s.cmd
	s.cmd = nil
	s.mu.Unlock()
	if cmd == nil {
		return
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
}

// restart kills the server and starts it again on the same port and data.
func (s *server) restart() {
	s.kill()
	s.start()
}

func (s *server) stop() { s.kill() }

// info returns a field of INFO persistence.
func (s *server) info(field string) (string, error) {
	c := redis.NewClient(&redis.Options{Addr: s.Addr()})
	defer c.Close()
	m, err := c.InfoMap(context.Background(), "persistence").Result()
	if err != nil {
		return "", err
	}
	v, ok := m["Persistence"][field]
	if !ok {
		return "", errors.New("no " + field)
	}
	return v, nil
}
