package journaltest

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Journald is the path of systemd-journald. Tests fail, never skip, when
// it is missing.
var Journald = "/lib/systemd/systemd-journald"

// Namespace is a real systemd-journald running in a journal namespace of
// its own, so that a test can rotate and vacuum its files (journalctl
// --namespace) without touching the machine's journal or a test stack's.
// It needs root. Entries are sent over the namespace's native socket;
// journald adds _PID, _UID, _COMM, _BOOT_ID and the rest, as on a node.
type Namespace struct {
	Name string
	Dir  string // where journald writes the namespace's files
	sock string
	cmd  *exec.Cmd
	conn *net.UnixConn
	log  bytes.Buffer
}

// StartJournald starts journald for a new namespace and stops it, and
// removes its sockets and files, when the test ends.
func StartJournald(t testing.TB) *Namespace {
	t.Helper()
	ns, err := RunJournald()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		log := ns.Close()
		if t.Failed() {
			t.Logf("journald (namespace %s) said:\n%s", ns.Name, log)
		}
	})
	return ns
}

// RunJournald starts journald for a new namespace; Close stops it.
func RunJournald() (*Namespace, error) {
	if fi, err := os.Stat(Journald); err != nil || fi.IsDir() {
		return nil, fmt.Errorf("systemd-journald is needed (Debian package systemd): %v", err)
	}
	id, err := os.ReadFile("/etc/machine-id")
	if err != nil {
		return nil, fmt.Errorf("journald needs /etc/machine-id: %w", err)
	}
	ns := &Namespace{Name: fmt.Sprintf("podstart-test-%d-%d", os.Getpid(), time.Now().UnixNano()%1e6)}
	ns.sock = "/run/systemd/journal." + ns.Name + "/socket"
	// Persistent storage: the files land in /var/log/journal/<id>.<ns>,
	// where journalctl --namespace rotates and vacuums them.
	ns.Dir = filepath.Join("/var/log/journal", strings.TrimSpace(string(id))+"."+ns.Name)
	if err := os.MkdirAll(ns.Dir, 0o755); err != nil {
		return nil, err
	}
	ns.cmd = exec.Command(Journald, ns.Name)
	ns.cmd.Env = append(os.Environ(), "SYSTEMD_LOG_TARGET=console", "SYSTEMD_LOG_LEVEL=info")
	ns.cmd.Stdout, ns.cmd.Stderr = &ns.log, &ns.log
	if err := ns.cmd.Start(); err != nil {
		os.RemoveAll(ns.Dir)
		return nil, fmt.Errorf("starting journald: %w", err)
	}
	for i := 0; ; i++ {
		if _, err := os.Stat(ns.sock); err == nil {
			break
		}
		if i == 100 {
			log := ns.Close()
			return nil, fmt.Errorf("journald for namespace %s did not create %s within 10s:\n%s", ns.Name, ns.sock, log)
		}
		time.Sleep(100 * time.Millisecond)
	}
	conn, err := ns.Dial()
	if err != nil {
		log := ns.Close()
		return nil, fmt.Errorf("%w\n%s", err, log)
	}
	ns.conn = conn
	return ns, nil
}

// Dial connects to the namespace's native socket: each process that
// sends through its own connection logs with its own _PID.
func (ns *Namespace) Dial() (*net.UnixConn, error) {
	conn, err := net.DialUnix("unixgram", nil, &net.UnixAddr{Name: ns.sock, Net: "unixgram"})
	if err != nil {
		return nil, fmt.Errorf("connecting to journald: %w", err)
	}
	return conn, nil
}

// Socket is the namespace's native socket.
func (ns *Namespace) Socket() string { return ns.sock }

// Close stops journald, removes the namespace's sockets and files, and
// returns what journald logged.
func (ns *Namespace) Close() string {
	if ns.conn != nil {
		ns.conn.Close()
	}
	_ = ns.cmd.Process.Kill()
	_ = ns.cmd.Wait()
	os.RemoveAll("/run/systemd/journal." + ns.Name)
	os.RemoveAll(ns.Dir)
	return ns.log.String()
}

// Send logs one entry with the given MESSAGE and SYSLOG_IDENTIFIER.
func (ns *Namespace) Send(t testing.TB, identifier, message string) {
	t.Helper()
	if err := SendNative(ns.conn, identifier, message); err != nil {
		t.Fatal(err)
	}
}

// SendNative sends one entry over journald's native protocol; a message
// with newlines goes in the protocol's binary-safe form.
func SendNative(conn *net.UnixConn, identifier, message string) error {
	b := make([]byte, 0, len(message)+64)
	if strings.IndexByte(message, '\n') < 0 {
		b = append(b, "MESSAGE="...)
		b = append(b, message...)
	} else {
		b = append(b, "MESSAGE\n"...)
		b = binary.LittleEndian.AppendUint64(b, uint64(len(message)))
		b = append(b, message...)
	}
	b = append(b, "\nSYSLOG_IDENTIFIER="...)
	b = append(b, identifier...)
	b = append(b, '\n')
	if _, err := conn.Write(b); err != nil {
		return fmt.Errorf("sending to journald: %w", err)
	}
	return nil
}

// Journalctl runs journalctl on the namespace with args (--rotate,
// --vacuum-files=1, …) and waits for it.
func (ns *Namespace) Journalctl(t testing.TB, args ...string) {
	t.Helper()
	out, err := exec.Command("journalctl", append([]string{"--namespace=" + ns.Name}, args...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("journalctl %s: %v\n%s", strings.Join(args, " "), err, out)
	}
}

// Files lists the namespace's journal files.
func (ns *Namespace) Files(t testing.TB) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(ns.Dir, "*.journal"))
	if err != nil {
		t.Fatal(err)
	}
	return m
}
