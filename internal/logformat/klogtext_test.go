package logformat

import (
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// Header lines below are real: "corpus N" is line N of
// testdata/kubelet-lines.jsonl (with its journal prefix removed where the
// test is about the bare header), "realnode" is
// ../shared/recordings/realnode-basic/journal.txt (kubelet v1.37.2).

func TestKlogStarts(t *testing.T) {
	for _, tc := range []struct {
		line string
		want bool
	}{
		// realnode: 5-digit PID, three spaces.
		{`I1129 15:25:47.360130   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`, true},
		// corpus 210: 7-digit PID, one space after the microseconds.
		{`I0723 01:14:24.768784 3866895 kubelet.go:1933] SyncLoop (PLEG): "devops-test-server-77d445697f-d5m97_live(5154def3-e139-48fc-a9dd-da13b691583b)", event: x`, true},
		// corpus 177 (MicroK8s, 7-digit PID).
		{`I1111 13:26:08.308515 1473551 pod_startup_latency_tracker.go:102] "Observed pod startup duration" pod="default/multitool-ds-krhjw"`, true},
		// corpus 62: an E line.
		{`E1129 16:20:18.683569    2775 remote_runtime.go:432] "ContainerStatus from runtime service failed"`, true},
		// corpus 133: a W line.
		{`W0409 10:34:10.833931     642 logging.go:59] [core] [Channel #4 SubChannel #5] grpc: addrConn.createTransport failed to connect to {`, true},
		// Not headers: containerd's logfmt (corpus 47), a continuation
		// (corpus 156, tab restored), a cut header, a date no calendar has.
		{`time="2024-11-29T18:13:10.764041708Z" level=info msg="RunPodSandbox for &PodSandboxMetadata{Name:nginx}"`, false},
		{"\tfailed to list *v1.ConfigMap: configmaps \"kube-proxy\" is forbidden", false},
		{`I1129 15:25:47.3601`, false},
		{`I1329 15:25:47.360130   17689 kubelet.go:2760] "SyncLoop ADD"`, false},
		{`I1129 25:25:47.360130   17689 kubelet.go:2760] "SyncLoop ADD"`, false},
		{`I1129 15:25:47.360130x  17689 kubelet.go:2760] "SyncLoop ADD"`, false},
	} {
		if got := klogStarts(tc.line); got != tc.want {
			t.Errorf("klogStarts(%.60q) = %v, want %v", tc.line, got, tc.want)
		}
	}
}

func TestParseKlogTextHeader(t *testing.T) {
	recv := time.Date(2026, 7, 23, 1, 14, 24, 768900000, time.UTC)
	for _, tc := range []struct {
		name, line string
		sev        byte
		kind       event.Kind
		pod        string
		at         time.Time
	}{
		{
			name: "7-digit PID (corpus 210)",
			line: `I0723 01:14:24.768784 3866895 kubelet.go:1933] SyncLoop (PLEG): "devops-test-server-77d445697f-d5m97_live(5154def3-e139-48fc-a9dd-da13b691583b)", event: &pleg.PodLifecycleEvent{ID:"5154def3-e139-48fc-a9dd-da13b691583b", Type:"ContainerDied", Data:"f9810afd20eb486c1b04001f2531f15ba82a7a428219fec1199733d8c2b27434"}`,
			kind: event.ContainerExited, pod: "live/devops-test-server-77d445697f-d5m97",
			at: time.Date(2026, 7, 23, 1, 14, 24, 768784000, time.UTC),
		},
		{
			name: "7-digit PID, structured (corpus 177)",
			line: `I0723 01:14:24.768784 1473551 pod_startup_latency_tracker.go:102] "Observed pod startup duration" pod="default/multitool-ds-krhjw" podStartSLOduration=-9.223372033546324e+09 pod.CreationTimestamp="2023-11-11 13:26:05 +0000 UTC" firstStartedPulling="2023-11-11 13:26:06.630353565 +0000 UTC m=+837657.141213126" lastFinishedPulling="0001-01-01 00:00:00 +0000 UTC"`,
			kind: event.StartupTracker, pod: "default/multitool-ds-krhjw",
			at: time.Date(2026, 7, 23, 1, 14, 24, 768784000, time.UTC),
		},
	} {
		res, ok := parseKlogText(nil, tc.line, recv)
		if !ok {
			t.Errorf("%s: not klog", tc.name)
			continue
		}
		if res.Event.Kind != tc.kind || res.Event.Pod.Key() != tc.pod || !res.Event.Time.Equal(tc.at) || res.Event.Source != event.SourceKubelet {
			t.Errorf("%s: %s %s %v %s, want %s %s %v", tc.name, res.Event.Kind, res.Event.Pod.Key(), res.Event.Time, res.Event.Source, tc.kind, tc.pod, tc.at)
		}
	}
}

func TestKlogTime(t *testing.T) {
	// Headers of real lines; receive times as the journal would state them.
	now := time.Date(2026, 11, 29, 17, 0, 0, 0, time.UTC)
	for _, tc := range []struct {
		name   string
		header string
		recv   time.Time
		want   time.Time
	}{
		{
			// realnode: journald received the line 63 µs after klog
			// stamped it; klog's microseconds are kept.
			name:   "same zone, µs kept (realnode)",
			header: `I1129 15:25:47.360130   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`,
			recv:   time.Date(2026, 11, 29, 15, 25, 47, 360193000, time.UTC),
			want:   time.Date(2026, 11, 29, 15, 25, 47, 360130000, time.UTC),
		},
		{
			// New Year: the header's Dec 31 is the year before the
			// receive time's.
			name:   "year before recv",
			header: `I1231 23:59:59.123456   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`,
			recv:   time.Date(2026, 1, 1, 0, 0, 30, 0, time.UTC),
			want:   time.Date(2025, 12, 31, 23, 59, 59, 123456000, time.UTC),
		},
		{
			// A kubelet in +01:00 already in the new year, the journal's
			// UTC receive time still in the old one.
			name:   "year after recv, +01:00",
			header: `I0101 00:30:00.000001   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`,
			recv:   time.Date(2025, 12, 31, 23, 30, 0, 40000, time.UTC),
			want:   time.Date(2025, 12, 31, 23, 30, 0, 1000, time.UTC),
		},
		{
			// A kubelet in +02:00 (its header is local time) and a receive
			// time in UTC: the offset is found, the µs are klog's.
			name:   "+02:00 zone",
			header: `I1129 18:33:25.449865    2983 kubelet.go:2433] "SyncLoop ADD" source="api" pods=["default/multiple"]`,
			recv:   time.Date(2026, 11, 29, 16, 33, 25, 449901000, time.UTC),
			want:   time.Date(2026, 11, 29, 16, 33, 25, 449865000, time.UTC),
		},
		{
			// The same receive time given in the node's zone.
			name:   "+02:00 zone, recv in that zone",
			header: `I1129 18:33:25.449865    2983 kubelet.go:2433] "SyncLoop ADD" source="api" pods=["default/multiple"]`,
			recv:   time.Date(2026, 11, 29, 18, 33, 25, 449901000, time.FixedZone("", 2*3600)),
			want:   time.Date(2026, 11, 29, 16, 33, 25, 449865000, time.UTC),
		},
		{
			// corpus 180: rsyslog's RFC 3339 prefix, +09:00, 304 µs after.
			name:   "+09:00 from an RFC 3339 prefix (corpus 180)",
			header: `E0213 21:46:14.539067 1535548 pod_workers.go:1300] "Error syncing pod, skipping"`,
			recv:   time.Date(2024, 2, 13, 21, 46, 14, 539371000, time.FixedZone("", 9*3600)),
			want:   time.Date(2024, 2, 13, 12, 46, 14, 539067000, time.UTC),
		},
		{
			// Nepal's +05:45 is a quarter-hour zone.
			name:   "+05:45",
			header: `I1129 21:10:47.360130   17689 kubelet.go:2760] "SyncLoop ADD" source="file" pods=["default/web-vm"]`,
			recv:   time.Date(2026, 11, 29, 15, 25, 47, 360200000, time.UTC),
			want:   time.Date(2026, 11, 29, 15, 25, 47, 360130000, time.UTC),
		},
		{
			// corpus 182: k3s' stderr was held up; journald received the
			// line 6 min 37 s after klog wrote it. That is no zone.
			name:   "journal late by minutes (corpus 182)",
			header: `E1008 16:23:14.139967    1636 kubelet.go:1846] skipping pod synchronization - PLEG is not healthy`,
			recv:   time.Date(2026, 10, 8, 16, 29, 51, 0, time.UTC),
			want:   time.Date(2026, 10, 8, 16, 23, 14, 139967000, time.UTC),
		},
		{
			// corpus 62: a journalctl short prefix (whole seconds) two
			// hours ahead of the E line's header.
			name:   "prefix seconds only, 2 h apart (corpus 62)",
			header: `E1129 16:20:18.683569    2775 remote_runtime.go:432] "ContainerStatus from runtime service failed"`,
			recv:   time.Date(2026, 11, 29, 18, 20, 18, 0, time.UTC),
			want:   time.Date(2026, 11, 29, 18, 20, 18, 683569000, time.UTC),
		},
		{
			// corpus 212: short-precise prefix 100 µs before the header.
			name:   "header after recv by µs (corpus 212)",
			header: `I0127 18:31:13.903991    1661 prober.go:126] Readiness probe for "etcd-master01_openshift-etcd(63...40):etcd" succeeded`,
			recv:   time.Date(2026, 1, 27, 18, 31, 13, 904091000, time.UTC),
			want:   time.Date(2026, 1, 27, 18, 31, 13, 903991000, time.UTC),
		},
		{
			// More than any zone apart: a copied log. The header stays.
			name:   "beyond any zone",
			header: `I1129 15:25:47.360130   17689 kubelet.go:2760] "SyncLoop ADD"`,
			recv:   time.Date(2026, 11, 30, 15, 25, 47, 0, time.UTC),
			want:   time.Date(2026, 11, 29, 15, 25, 47, 360130000, time.UTC),
		},
		{
			// No receive time: this year, as the clock says.
			name:   "no recv",
			header: `I0316 04:31:21.080604     202 kubelet.go:2474] "SyncLoop ADD" source="api" pods=["lws-e2e-thznm/lws-1"]`,
			want:   time.Date(2026, 3, 16, 4, 31, 21, 80604000, time.UTC),
		},
		{
			// No receive time and a date later this year than now: last
			// year's (corpus 189 is from January 2021).
			name:   "no recv, not in the future",
			header: `I1230 08:03:06.299369   24556 kubelet.go:1999] SyncLoop (ADD, "api"): "csdb-pod-4_project-env106(50310956-b2c9-4212-88dd-1ac53006e261)"`,
			want:   time.Date(2025, 12, 30, 8, 3, 6, 299369000, time.UTC),
		},
		{
			name:   "no recv, tomorrow is allowed",
			header: `I1130 08:03:06.299369   24556 kubelet.go:1999] SyncLoop (ADD, "api"): "x_y(z)"`,
			want:   time.Date(2026, 11, 30, 8, 3, 6, 299369000, time.UTC),
		},
	} {
		got := klogTimeAt(tc.header, tc.recv, now)
		if !got.Equal(tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, got, tc.want)
		}
		if got.Location() != time.UTC {
			t.Errorf("%s: location %v, want UTC", tc.name, got.Location())
		}
	}
}

// TestParseKlogTextPrefixes runs real lines with their prefixes and
// wrappers through Parse: the header is found behind them and the time
// comes out in the prefix's year.
func TestParseKlogTextPrefixes(t *testing.T) {
	for _, tc := range []struct {
		name, line string
		kind       event.Kind
		pod        string
		month      time.Month
		clock      string
	}{
		{"MicroShift wrapper (corpus 143)",
			`Feb 06 13:51:11 dev microshift[1476]: kubelet I0206 13:51:11.604745    1476 util.go:30] "No sandbox for pod can be found. Need to start a new one" pod="default/samplepod"`,
			event.PodNoSandbox, "default/samplepod", time.February, "13:51:11.604745"},
		{"zh_CN month (corpus 207)",
			`5月 11 09:01:37 HZPL004094050 kubelet[5347]: I0511 09:01:37.778960    5347 prober.go:117] Readiness probe for "tidb-second-biz-prod-rq-55787858cf-vpgv4_pangu(fff52887-bb5f-4af9-8ba4-e3416dcd32b9):java" failed (failure): Get "http://10.6.181.96:8166/health": dial tcp 10.6.181.96:8166: connect: connection timed out`,
			event.ProbeFailed, "pangu/tidb-second-biz-prod-rq-55787858cf-vpgv4", time.May, "09:01:37.778960"},
		{"ko_KR month (corpus 208)",
			`3월 29 16:47:49 mec01 kubelet[2927]: I0329 16:47:49.368947    2927 prober.go:124] Readiness probe for "calico-node-lfsbw_kube-system(d6230a41-4137-43cd-9ad6-1f8b95459693):calico-node" failed (failure): 2021-03-29 07:47:49.350 [INFO][9740] confd/health.go 180: Number of node(s) with BGP peering established = 0`,
			event.ProbeFailed, "kube-system/calico-node-lfsbw", time.March, "16:47:49.368947"},
		{"space-padded day (corpus 181)",
			`Jul  5 01:30:47 vyushmanov-GL703VD microk8s.daemon-kubelite[6102]: I0705 01:30:47.403935    6102 handler.go:232] Adding GroupVersion crd.projectcalico.org v1 to ResourceManager`,
			event.Unrecognised, "", time.July, "01:30:47.403935"},
		{"minikube's '* ' (corpus 199)",
			`* Apr 05 07:24:35 minikube kubelet[3915]: I0405 07:24:35.057872    3915 reconciler.go:209] operationExecutor.VerifyControllerAttachedVolume started for volume "etcd-certs" (UniqueName: "kubernetes.io/host-path/d32bcc77c9d8dbadc721a5efbb1478d8-etcd-certs") pod "etcd-minikube" (UID: "d32bcc77c9d8dbadc721a5efbb1478d8")`,
			event.VolumeVerifyStarted, "/etcd-minikube", time.April, "07:24:35.057872"},
		{"shipper's RFC 3339 prefix and program name (corpus 200)",
			`2018-05-09T18:07:48.734032Z - kubelet I0509 18:07:48.688941     769 reconciler.go:217] operationExecutor.VerifyControllerAttachedVolume started for volume "pvc-e7ed1fee-53b3-11e8-8ae5-005056ba190c" (UniqueName: "kubernetes.io/vsphere-volume/[vsanDatastore] 62d0e15a-f1a1-23e7-eaee-246e961e43e0/kubernetes-dynamic-pvc-e7ed1fee-53b3-11e8-8ae5-005056ba190c.vmdk") pod "web-7" (UID: "e7ee8904-53b3-11e8-8ae5-005056ba190c") `,
			event.VolumeVerifyStarted, "/web-7", time.May, "18:07:48.688941"},
	} {
		res := Parse(tc.line, time.Time{})
		ev := res.Event
		if ev.Kind != tc.kind || ev.Pod.Key() != tc.pod || ev.Time.Month() != tc.month || ev.Time.Format("15:04:05.000000") != tc.clock {
			t.Errorf("%s: %s %q %v, want %s %q %s %s", tc.name, ev.Kind, ev.Pod.Key(), ev.Time, tc.kind, tc.pod, tc.month, tc.clock)
		}
		if res.Format != "klog" {
			t.Errorf("%s: format %q", tc.name, res.Format)
		}
	}
	// The shipper's prefix states the year.
	res := Parse(`2018-05-09T18:07:48.734036Z - kubelet E0509 18:07:48.689175     769 nestedpendingoperations.go:263] Operation for "\"kubernetes.io/vsphere-volume/x\"" failed. No retries permitted until 2018-05-09 18:07:50.689101743 +0000 UTC m=+6378.120806793 (durationBeforeRetry 2s). Error: "Volume has not been added to the list of VolumesInUse in the node's volume status for volume \"pvc-e7ed1fee-53b3-11e8-8ae5-005056ba190c\" (UniqueName: \"kubernetes.io/vsphere-volume/x\") pod \"web-7\" (UID: \"e7ee8904-53b3-11e8-8ae5-005056ba190c\") "`, time.Time{})
	if res.Event.Time.Year() != 2018 {
		t.Errorf("corpus 201 (shortened UniqueName): year %d, want 2018", res.Event.Time.Year())
	}
}

func TestPrefixMonths(t *testing.T) {
	for s, want := range map[string]time.Month{
		"Feb": 2, "feb.": 2, "2月": 2, "12月": 12, "3월": 3, "Mär": 3, "déc.": 12, "avr.": 4, "окт": 10, "ene": 1,
	} {
		if got, ok := monthOf(s); !ok || got != want {
			t.Errorf("monthOf(%q) = %v %v, want %v", s, got, ok, want)
		}
	}
	for _, s := range []string{"13月", "0월", "月", "Foo", "-- Logs", ""} {
		if m, ok := monthOf(s); ok {
			t.Errorf("monthOf(%q) = %v", s, m)
		}
	}
}
