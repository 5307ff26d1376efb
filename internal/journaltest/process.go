package journaltest

import (
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// Node is the machine entries come from.
type Node struct {
	Hostname  string
	MachineID string
	BootID    string
	// Booted is when the node booted: __MONOTONIC_TIMESTAMP counts from here.
	Booted time.Time
}

// DefaultNode is the node of the real recordings in testdata (hostname vm).
var DefaultNode = Node{
	Hostname:  "vm",
	MachineID: "3d1219c7c4c5404aaa1f6d2a48adfda4",
	BootID:    "12c5dd84ccbe47f1b130c689dd8a6bd1",
	Booted:    time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC),
}

// Transports: how a process's lines reach journald (_TRANSPORT).
const (
	Stdout  = "stdout"  // a service's stdout/stderr stream (kubelet, containerd)
	Syslog  = "syslog"  // syslog(3) on /dev/log (sshd, cron)
	Journal = "journal" // sd_journal_send (systemd itself, logind)
	Kernel  = "kernel"  // the kernel's ring buffer
)

// Process is one process whose lines journald stores. Entry adds the fields
// journald derives for it; zero-valued optional fields are left out.
type Process struct {
	Node       Node
	Unit       string // _SYSTEMD_UNIT; empty for a process outside any unit
	Slice      string // _SYSTEMD_SLICE; default system.slice
	Cgroup     string // _SYSTEMD_CGROUP; default /<slice>/<unit>
	Identifier string // SYSLOG_IDENTIFIER; default Comm
	PID        int
	UID, GID   int
	Comm       string // _COMM (at most 15 bytes, as the kernel keeps it)
	Exe        string
	Cmdline    string
	Transport  string // default Stdout
	Priority   int    // PRIORITY; default 6 (every stdout line of a unit has 6)
	Facility   int    // SYSLOG_FACILITY; 0 leaves it out (3, daemon, for units systemd starts)
	// StreamID is _STREAM_ID of a stdout transport; default derived from
	// unit and PID.
	StreamID string
	// InvocationID is _SYSTEMD_INVOCATION_ID; empty leaves it out (a
	// process not started by systemd, as in the recordings).
	InvocationID   string
	CapEffective   string // default 1ffffffffff
	SELinuxContext string // _SELINUX_CONTEXT; empty leaves it out
	// Extra fields added to every entry.
	Extra map[string]string
}

// id derives a stable 128-bit hex id from parts.
func id(parts ...string) string {
	h := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return hex.EncodeToString(h[:16])
}

func nodeOr(n Node) Node {
	if n.BootID == "" {
		return DefaultNode
	}
	return n
}

// Service returns a process of a systemd service unit that logs through
// its stdout stream, as systemd starts it: SYSLOG_FACILITY=3 and an
// invocation id.
func Service(unit string, pid int, comm, exe, cmdline string) *Process {
	p := &Process{Node: DefaultNode, Unit: unit, PID: pid, Comm: comm, Exe: exe, Cmdline: cmdline, Facility: 3}
	p.InvocationID = id("invocation", unit, strconv.Itoa(pid))
	return p
}

// Kubelet returns a kubelet of a kubeadm-style node (the recordings'
// command line) at --v=2.
func Kubelet(pid int) *Process {
	return Service("kubelet.service", pid, "kubelet", "/usr/local/bin/kubelet",
		"/usr/local/bin/kubelet --config=/var/lib/kubelet/config.yaml --kubeconfig=/etc/kubernetes/kubelet.conf --v=2")
}

// Kubenswrapper returns an OpenShift kubelet: unit kubelet.service, whose
// lines carry SYSLOG_IDENTIFIER=kubenswrapper.
func Kubenswrapper(pid int) *Process {
	p := Service("kubelet.service", pid, "kubelet", "/usr/bin/kubelet",
		"/usr/bin/kubelet --config=/etc/kubernetes/kubelet.conf --bootstrap-kubeconfig=/etc/kubernetes/kubeconfig --kubeconfig=/var/lib/kubelet/kubeconfig --node-ip=192.0.2.2 --v=2")
	p.Identifier = "kubenswrapper"
	return p
}

// Containerd returns containerd 2.x as the recordings ran it.
func Containerd(pid int) *Process {
	return Service("containerd.service", pid, "containerd", "/usr/local/bin/containerd",
		"/usr/local/bin/containerd --config /etc/containerd/k8s-node.toml")
}

// Sshd returns an sshd session process (Debian's ssh.service), which logs
// through syslog with the auth facility.
func Sshd(pid int) *Process {
	p := Service("ssh.service", pid, "sshd", "/usr/sbin/sshd", "sshd: root [priv]")
	p.Transport, p.Identifier, p.Facility = Syslog, "sshd", 4
	return p
}

// Cron returns a cron job runner (cron.service), logging through syslog.
func Cron(pid int) *Process {
	p := Service("cron.service", pid, "cron", "/usr/sbin/cron", "/usr/sbin/CRON -f -P")
	p.Transport, p.Identifier, p.Facility = Syslog, "CRON", 9
	return p
}

// Systemd returns the service manager, PID 1 (init.scope), which logs
// through the native protocol.
func Systemd() *Process {
	p := &Process{Node: DefaultNode, Unit: "init.scope", Slice: "-.slice", Cgroup: "/init.scope", Identifier: "systemd",
		PID: 1, Comm: "systemd", Exe: "/usr/lib/systemd/systemd", Cmdline: "/sbin/init", Transport: Journal, Facility: 3,
		Extra: map[string]string{"CODE_FILE": "src/core/job.c", "CODE_LINE": "768", "CODE_FUNC": "job_emit_done_message", "JOB_TYPE": "start", "JOB_RESULT": "done"}}
	return p
}

// KernelLog returns the kernel as journald stores its messages: no process
// fields.
func KernelLog() *Process {
	return &Process{Node: DefaultNode, Identifier: "kernel", Transport: Kernel, Extra: map[string]string{"SYSLOG_FACILITY": "0"}}
}

// Entry returns the entry journald stores when p logs msg at t: MESSAGE,
// PRIORITY, SYSLOG_FACILITY, SYSLOG_IDENTIFIER, _PID, _UID, _GID, _COMM,
// _EXE, _CMDLINE, _CAP_EFFECTIVE, _SYSTEMD_CGROUP, _SYSTEMD_UNIT,
// _SYSTEMD_SLICE, _SYSTEMD_INVOCATION_ID, _STREAM_ID (stdout),
// _BOOT_ID, _MACHINE_ID, _HOSTNAME, _RUNTIME_SCOPE, _TRANSPORT, and the
// syslog or native transport's own fields. The caller may change the
// returned map.
func (p *Process) Entry(t time.Time, msg string) Entry {
	n := nodeOr(p.Node)
	f := make(map[string]string, 26)
	f["MESSAGE"] = msg
	prio := p.Priority
	if prio == 0 {
		prio = 6
	}
	f["PRIORITY"] = strconv.Itoa(prio)
	if p.Facility > 0 {
		f["SYSLOG_FACILITY"] = strconv.Itoa(p.Facility)
	}
	ident := p.Identifier
	if ident == "" {
		ident = p.Comm
	}
	if ident != "" {
		f["SYSLOG_IDENTIFIER"] = ident
	}
	if p.PID != 0 {
		f["_PID"] = strconv.Itoa(p.PID)
		f["_UID"] = strconv.Itoa(p.UID)
		f["_GID"] = strconv.Itoa(p.GID)
		if p.Comm != "" {
			comm := p.Comm
			if len(comm) > 15 {
				comm = comm[:15]
			}
			f["_COMM"] = comm
		}
		if p.Exe != "" {
			f["_EXE"] = p.Exe
		}
		if p.Cmdline != "" {
			f["_CMDLINE"] = p.Cmdline
		}
		caps := p.CapEffective
		if caps == "" {
			caps = "1ffffffffff"
		}
		f["_CAP_EFFECTIVE"] = caps
	}
	if p.SELinuxContext != "" {
		f["_SELINUX_CONTEXT"] = p.SELinuxContext
	}
	if p.Unit != "" {
		slice := p.Slice
		if slice == "" {
			slice = "system.slice"
		}
		cg := p.Cgroup
		if cg == "" {
			cg = "/" + slice + "/" + p.Unit
		}
		f["_SYSTEMD_UNIT"] = p.Unit
		f["_SYSTEMD_SLICE"] = slice
		f["_SYSTEMD_CGROUP"] = cg
		if p.InvocationID != "" {
			f["_SYSTEMD_INVOCATION_ID"] = p.InvocationID
		}
	}
	f["_BOOT_ID"] = n.BootID
	f["_MACHINE_ID"] = n.MachineID
	f["_HOSTNAME"] = n.Hostname
	f["_RUNTIME_SCOPE"] = "system"
	tr := p.Transport
	if tr == "" {
		tr = Stdout
	}
	f["_TRANSPORT"] = tr
	switch tr {
	case Stdout:
		sid := p.StreamID
		if sid == "" {
			sid = id("stream", p.Unit, strconv.Itoa(p.PID))
		}
		f["_STREAM_ID"] = sid
	case Syslog:
		f["SYSLOG_PID"] = strconv.Itoa(p.PID)
		f["SYSLOG_TIMESTAMP"] = t.UTC().Format(time.Stamp) + " "
		f["_SOURCE_REALTIME_TIMESTAMP"] = strconv.FormatInt(t.UnixMicro()-37, 10)
	case Journal:
		f["_SOURCE_REALTIME_TIMESTAMP"] = strconv.FormatInt(t.UnixMicro()-21, 10)
	case Kernel:
		if !n.Booted.IsZero() && t.After(n.Booted) {
			f["_SOURCE_MONOTONIC_TIMESTAMP"] = strconv.FormatInt(t.Sub(n.Booted).Microseconds()-400, 10)
		}
	}
	for k, v := range p.Extra {
		f[k] = v
	}
	e := Entry{Realtime: t, Fields: f}
	if !n.Booted.IsZero() && t.After(n.Booted) {
		e.Monotonic = t.Sub(n.Booted)
	}
	return e
}
