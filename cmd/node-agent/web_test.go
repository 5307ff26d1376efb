package main

import (
	"bytes"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/bcrypt"
)

// TestServeTLSAndBasicAuth runs the agent with --web.config.file (the
// exporter-toolkit's TLS and basic auth, as node_exporter has them) and
// talks to it with a real TLS client: without or with wrong credentials it
// answers 401, with them the metrics; plain HTTP gets no metrics; and
// nothing but metrics, health and timelines is served, without echoing
// what the request said.
func TestServeTLSAndBasicAuth(t *testing.T) {
	bin := buildAgent(t)
	jdir := unpack(t, "realnode-basic")
	dir := t.TempDir()
	certPEM, keyPEM := selfSigned(t)
	hash, err := bcrypt.GenerateFromPassword([]byte("s3cret"), bcrypt.MinCost)
	if err != nil {
		t.Fatal(err)
	}
	cfg := "tls_server_config:\n  cert_file: " + write(t, dir, "cert.pem", certPEM) +
		"\n  key_file: " + write(t, dir, "key.pem", keyPEM) +
		"\nbasic_auth_users:\n  prometheus: " + string(hash) + "\n"
	webCfg := write(t, dir, "web.yml", []byte(cfg))

	addr := freeAddr(t)
	cmd := exec.Command(bin, "--journal.path", jdir, "--cri.endpoint", "none", "--web.listen-address", addr,
		"--since", "2026-11-29T00:00:00Z", "--timeline.ttl", "87600h", "--state.file", "", "--web.config.file", webCfg, "--web.disable-pods")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = cmd.Process.Kill(); _ = cmd.Wait() }()

	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(certPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, ServerName: "127.0.0.1"}}}
	base := "https://" + addr
	do := func(method, path, user, pass string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, base+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if user != "" {
			req.SetBasicAuth(user, pass)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(b)
	}
	// Wait for the server.
	for i := 0; ; i++ {
		if code, _ := do("GET", "/healthz", "prometheus", "s3cret"); code == http.StatusOK {
			break
		}
		if i == 100 {
			t.Fatalf("the agent did not answer over TLS within 10s; logs:\n%s", logs.String())
		}
		time.Sleep(100 * time.Millisecond)
	}

	cases := []struct {
		name, method, path, user, pass string
		code                           int
		has                            string
	}{
		{"no credentials", "GET", "/metrics", "", "", http.StatusUnauthorized, ""},
		{"wrong password", "GET", "/metrics", "prometheus", "nope", http.StatusUnauthorized, ""},
		{"unknown user", "GET", "/metrics", "root", "s3cret", http.StatusUnauthorized, ""},
		{"metrics", "GET", "/metrics", "prometheus", "s3cret", http.StatusOK, "podstart_stage_duration_seconds_bucket"},
		{"readyz", "GET", "/readyz", "prometheus", "s3cret", http.StatusOK, "ready"},
		{"pods turned off", "GET", "/pods", "prometheus", "s3cret", http.StatusNotFound, ""},
		{"no other path", "GET", "/debug/pprof/", "prometheus", "s3cret", http.StatusNotFound, ""},
		{"no writes", "POST", "/metrics", "prometheus", "s3cret", http.StatusMethodNotAllowed, ""},
	}
	for _, c := range cases {
		code, body := do(c.method, c.path, c.user, c.pass)
		if code != c.code || !strings.Contains(body, c.has) {
			t.Errorf("%s: %s %s: %d %.200q, want %d with %q", c.name, c.method, c.path, code, body, c.code, c.has)
		}
		if c.code == http.StatusUnauthorized && strings.Contains(body, "podstart_") {
			t.Errorf("%s: metrics served without valid credentials", c.name)
		}
	}

	// A request path full of markup is never echoed back as markup.
	evil := "/%3Cscript%3Ealert(1)%3C/script%3E"
	if code, body := do("GET", evil, "prometheus", "s3cret"); code != http.StatusNotFound || strings.Contains(body, "<script>") {
		t.Errorf("GET %s: %d %q: want 404 without the request's markup", evil, code, body)
	}

	// Plain HTTP on the TLS port: no metrics.
	plain := &http.Client{Timeout: 5 * time.Second}
	if resp, err := plain.Get("http://" + addr + "/metrics"); err == nil {
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK || strings.Contains(string(b), "podstart_") {
			t.Errorf("plain HTTP got %d and metrics", resp.StatusCode)
		}
	}
}

func write(t *testing.T, dir, name string, b []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, b, 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// selfSigned returns a certificate for 127.0.0.1 and its key, in PEM.
func selfSigned(t *testing.T) (certPEM, keyPEM []byte) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "podstart test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.ParseIP("127.0.0.1")},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb})
}
