package logformat

import (
	"testing"
	"time"

	"github.com/podstart/podstart/internal/event"
)

// TestNodeProblems: the kubelet's lines about the node's own health, as
// published from real nodes (journal lines of kubelets 1.18 to 1.34; the
// corpus's own PLEG line is in corpus_test.go), each with the problem it
// names, and the start-up noise that must name none.
func TestNodeProblems(t *testing.T) {
	for _, tc := range []struct {
		line, want string
	}{
		{`Jun 08 10:38:07 deep-wrk-02 kubelet[793]: E0608 10:38:07.217027     793 kubelet.go:2646] "Skipping pod synchronization" err="container runtime is down"`, event.ProblemRuntimeDown},
		{`Aug 26 17:00:14 ip-10-57-11-201 hyperkube[1445]: E0826 17:00:14.128025    1445 kubelet.go:1882] "Skipping pod synchronization" err="[container runtime status check may not have completed yet, PLEG is not healthy: pleg has yet to be successful]"`, ""},
		// Constructed from runtimeErrors' aggregate: both at once.
		{`E0910 13:44:50.179453  371875 kubelet.go:2371] "Skipping pod synchronization" err="[container runtime is down, PLEG is not healthy: pleg was last seen active 3m5.2s ago; threshold is 3m0s]"`, event.ProblemPLEGUnhealthy},
		{`Oct  8 16:29:51 worker9 k3s[1636]: E1008 16:23:14.139967    1636 kubelet.go:1846] skipping pod synchronization - PLEG is not healthy: pleg was last seen active 4m51.763621609s ago; threshold is 3m0s`, event.ProblemPLEGUnhealthy},
		{`Feb 06 11:52:25 control-node1 kubelet[123350]: E0206 11:52:25.334271  123350 kubelet.go:3008] "Container runtime network not ready" networkReady="NetworkReady=false reason:NetworkPluginNotReady message:Network plugin returns error: cni plugin not initialized"`, event.ProblemNetworkNotReady},
		{`Sep 27 08:59:59.853216 ci-op-worker kubenswrapper[2397]: E0927 08:59:59.849143    2397 kubelet_node_status.go:487] "Error updating node status, will retry" err="error getting node \"ci-op-worker\": Get \"https://api-int:6443/api/v1/nodes/ci-op-worker?timeout=10s\": http2: client connection lost"`, event.ProblemNodeStatusUpdate},
		{`Jan 17 19:14:10 dockerapp kubelet[16499]: E0117 19:14:10.956418   16499 kubelet_node_status.go:380] Error updating node status, will retry: error getting node "dockerapp": Get https://192.168.160.3:6443/api/v1/nodes/dockerapp: net/http: request canceled`, event.ProblemNodeStatusUpdate},
		{`Jan 18 13:30:26 demo-worker kubelet[228]: E0118 13:30:26.833170     228 controller.go:145] "Failed to ensure lease exists, will retry" err="Get \"https://demo-control-plane:6443/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/demo-worker?timeout=10s\": dial tcp: lookup demo-control-plane on 192.168.65.254:53: dial udp 192.168.65.254:53: connect: network is unreachable" interval="7s"`, event.ProblemLeaseUpdate},
		{`E0106 08:40:08.885824  275376 controller.go:144] failed to ensure lease exists, will retry in 200ms, error: Get "https://127.0.0.1:6443/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/xc-10-81-133-2?timeout=10s": dial tcp 127.0.0.1:6443: connect: connection refused`, event.ProblemLeaseUpdate},
		{`Jan 12 10:56:20 green-master-3 kubelet[3112080]: I0112 10:56:20.222397 3112080 setters.go:552] "Node became not ready" node="green-master-3" condition={"type":"Ready","status":"False","lastHeartbeatTime":"2026-01-12T02:56:20Z","lastTransitionTime":"2026-01-12T02:56:20Z","reason":"KubeletNotReady","message":"node is shutting down"}`, event.ProblemNodeNotReady},
		{`Apr 02 13:15:01 worker3 kubelet[1114]: E0402 13:15:01.809804    1114 kubelet.go:1302] Image garbage collection failed multiple times in a row: failed to garbage collect required amount of images. Wanted to free 966184140 bytes, but freed 0 bytes`, event.ProblemImageGCFailed},
		{`E0910 13:44:50.165467  371875 kubelet.go:1462] "Image garbage collection failed once. Stats initialization may not have completed yet" err="invalid capacity 0 on image filesystem"`, ""},
		// Constructed from eviction_manager.go's call (resourceToReclaim).
		{`I0409 10:00:00.000000    1114 eviction_manager.go:350] "Eviction manager: attempting to reclaim" resourceName="ephemeral-storage"`, event.ProblemDiskPressure},
		{`I0409 10:00:00.000000    1114 eviction_manager.go:350] "Eviction manager: attempting to reclaim" resourceName="memory"`, event.ProblemMemoryPressure},
	} {
		res := Parse(tc.line, time.Time{})
		ev := res.Event
		if tc.want == "" {
			if ev.Kind == event.NodeProblem {
				t.Errorf("start-up noise gave %s %s: %s", ev.Kind, ev.Reason, tc.line)
			}
			continue
		}
		if res.Outcome != Recognised || ev.Kind != event.NodeProblem || ev.Reason != tc.want {
			t.Errorf("%s\n\tgot %v %s %q, want node_problem %q", tc.line, res.Outcome, ev.Kind, ev.Reason, tc.want)
		}
		if ev.Message == "" {
			t.Errorf("no message kept: %s", tc.line)
		}
	}
}

// TestEvictionAndKubeletStart: a pod evicted names the pod; the kubelet's
// version line is its start and carries its PID.
func TestEvictionAndKubeletStart(t *testing.T) {
	res := Parse(`Oct 12 19:34:45 aks-nodepool1-24207654-vmss000002 kubelet[2480]: I1012 19:34:45.445172    2480 eviction_manager.go:595] "Eviction manager: pod is evicted successfully" pod="default/nginx"`, time.Time{})
	if ev := res.Event; ev.Kind != event.PodEvicted || ev.Pod.Key() != "default/nginx" || ev.Reason != event.ReasonEvicted || ev.PID != 2480 {
		t.Errorf("eviction: %+v", ev)
	}
	res = Parse(`I1129 15:25:42.114685   17689 server.go:545] "Kubelet version" kubeletVersion="v1.37.2"`, time.Time{})
	if ev := res.Event; ev.Kind != event.KubeletStart || ev.PID != 17689 || ev.Message != "v1.37.2" {
		t.Errorf("kubelet start: %+v", ev)
	}
	// A 7-digit PID leaves one space after the time.
	res = Parse(`E0213 21:46:14.539067 1535548 pod_workers.go:1300] "Error syncing pod, skipping" err="failed to \"StartContainer\" for \"c\" with CrashLoopBackOff: \"back-off 2m40s restarting failed container=c pod=p_ns(u)\"" pod="ns/p" podUID="u"`, time.Time{})
	if ev := res.Event; ev.PID != 1535548 || ev.Kind != event.ContainerBackOff || !ev.HasDuration || ev.Duration != 160*time.Second {
		t.Errorf("back-off: %+v", ev)
	}
}
