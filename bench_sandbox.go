package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"time"
)

// benchSandboxKey is the API key the bench's sandbox accepts.
const benchSandboxKey = "sk_test_bench"

// benchChildEnv marks the sandbox process the bench starts. A test binary
// re-executed as the sandbox looks for it (see bench_test.go).
const benchChildEnv = "ROSTER_BENCH_CHILD"

// benchSandbox is the sandbox running as a child process, so that the
// figures measure Roster alone (its CPU and memory are not ours).
type benchSandbox struct {
	cmd   *exec.Cmd
	url   string
	ready time.Duration // from start until it answered
	hc    *http.Client
	done  chan struct{}
}

// freeLoopbackAddr picks a free port on 127.0.0.1. Another process could
// take it before the sandbox binds it; the wait below would then fail
// clearly rather than measure the wrong thing.
func freeLoopbackAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startBenchSandbox re-executes this binary as `roster sandbox` with the
// rate limit off, and waits until its API answers.
func startBenchSandbox(ctx context.Context, preset string, log *slog.Logger) (*benchSandbox, error) {
	exe, err := os.Executable()
	if err != nil {
		return nil, fmt.Errorf("bench: find own binary: %w", err)
	}
	addr, err := freeLoopbackAddr()
	if err != nil {
		return nil, fmt.Errorf("bench: pick a port: %w", err)
	}
	cmd := exec.Command(exe, "sandbox", "-addr", addr, "-key", benchSandboxKey, "-preset", preset, "-rate-limit=false", "-state", "")
	cmd.Env = append(os.Environ(), benchChildEnv+"=1", "LOG_LEVEL=warn", "SANDBOX_WEBHOOK_URL=", "SANDBOX_STATE=")
	cmd.Stdout, cmd.Stderr = io.Discard, os.Stderr
	cmd.SysProcAttr = childProcAttr()
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start the sandbox: %w", err)
	}
	sb := &benchSandbox{cmd: cmd, url: "http://" + addr, done: make(chan struct{}),
		hc: &http.Client{Timeout: 2 * time.Minute}}
	var waitErr error
	go func() { waitErr = cmd.Wait(); close(sb.done) }()
	// Seeding the large preset takes a few seconds.
	deadline := time.Now().Add(3 * time.Minute)
	for {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, sb.url+"/directories?limit=1", nil)
		req.Header.Set("Authorization", "Bearer "+benchSandboxKey)
		resp, err := sb.hc.Do(req)
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		select {
		case <-sb.done:
			return nil, fmt.Errorf("bench: the sandbox exited before it answered: %v", waitErr)
		case <-ctx.Done():
			sb.stop(log)
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			sb.stop(log)
			return nil, errors.New("bench: the sandbox did not answer within 3 minutes")
		}
	}
	sb.ready = time.Since(start)
	return sb, nil
}

// stop ends the sandbox process: an interrupt first, a kill if it lingers.
func (sb *benchSandbox) stop(log *slog.Logger) {
	if sb.cmd.Process == nil {
		return
	}
	select {
	case <-sb.done:
		return
	default:
	}
	_ = sb.cmd.Process.Signal(os.Interrupt)
	select {
	case <-sb.done:
	case <-time.After(5 * time.Second):
		log.Warn("bench: sandbox did not stop on interrupt; killing it", "pid", sb.cmd.Process.Pid)
		_ = sb.cmd.Process.Kill()
		<-sb.done
	}
}

// control calls one of the sandbox's /_sandbox/ JSON endpoints.
func (sb *benchSandbox) control(ctx context.Context, method, path string, body, out any) error {
	var rd io.Reader
	if body != nil {
		raw, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(raw)
	}
	req, err := http.NewRequestWithContext(ctx, method, sb.url+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := sb.hc.Do(req)
	if err != nil {
		return fmt.Errorf("bench: sandbox %s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	raw, _ := io.ReadAll(resp.Body)
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("bench: sandbox %s %s: %s: %s", method, path, resp.Status, bytes.TrimSpace(raw))
	}
	if out != nil {
		if err := json.Unmarshal(raw, out); err != nil {
			return fmt.Errorf("bench: sandbox %s %s: %w", method, path, err)
		}
	}
	return nil
}

// setRateLimit turns the sandbox's 4 requests/s limit on or off.
func (sb *benchSandbox) setRateLimit(ctx context.Context, on bool) error {
	return sb.control(ctx, http.MethodPut, "/_sandbox/faults", map[string]any{"rate_limit": on}, nil)
}

// generateEvents runs sandbox scenarios until at least n events were
// emitted: mostly re-orgs (per person a user.updated, a group.user_removed
// and a group.user_added), some leavers (user.updated to inactive). It
// returns how many events were emitted. New hires are left out: the
// sandbox takes about 0.3 s per hire on the large preset (it scans every
// email for a free one), far too slow for a backlog of 100,000.
func (sb *benchSandbox) generateEvents(ctx context.Context, dirID string, n int, users int64) (int, error) {
	total := 0
	// Leavers stay few (2% of the people per round at most), so that
	// re-orgs always find active people.
	leavers := int(min(500, users/50))
	for i := 0; total < n; i++ {
		name, count, mode := "reorg", 1000, ""
		if i%5 == 4 && leavers > 0 {
			name, count, mode = "leavers", leavers, "deactivate"
		}
		if rest := n - total; name == "reorg" && rest < 3*count {
			count = max(1, rest/3+1)
		}
		var res struct {
			Events int `json:"events"`
		}
		body := map[string]any{"directory_id": dirID, "count": count}
		if mode != "" {
			body["mode"] = mode
		}
		if err := sb.control(ctx, http.MethodPost, "/_sandbox/scenarios/"+name, body, &res); err != nil {
			return total, err
		}
		if res.Events == 0 {
			return total, errors.New("bench: the sandbox scenario " + name + " emitted no events")
		}
		total += res.Events
	}
	return total, nil
}
