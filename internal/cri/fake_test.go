package cri

import (
	"context"
	"net"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podstart/podstart/internal/event"
)

// fakeRuntime is a CRI runtime service with one pod whose container was
// OOM-killed, and a network that is not ready: what a node with a broken
// CNI and a container over its memory limit answers.
type fakeRuntime struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	mu          sync.Mutex
	networkUp   bool
	statusCalls int
}

const (
	fakeSandbox   = "sb1"
	fakeContainer = "c1"
)

var fakeT0 = time.Date(2026, 11, 29, 15, 0, 0, 0, time.UTC)

func (f *fakeRuntime) Version(context.Context, *runtimeapi.VersionRequest) (*runtimeapi.VersionResponse, error) {
	// containerd 1.6: never subscribed to, polled.
	return &runtimeapi.VersionResponse{RuntimeName: "containerd", RuntimeVersion: "1.6.20"}, nil
}

func (f *fakeRuntime) Status(context.Context, *runtimeapi.StatusRequest) (*runtimeapi.StatusResponse, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.statusCalls++
	return &runtimeapi.StatusResponse{Status: &runtimeapi.RuntimeStatus{Conditions: []*runtimeapi.RuntimeCondition{
		{Type: "RuntimeReady", Status: true},
		{Type: "NetworkReady", Status: f.networkUp, Reason: "NetworkPluginNotReady", Message: "cni plugin not initialized"},
	}}}, nil
}

func (f *fakeRuntime) ListPodSandbox(context.Context, *runtimeapi.ListPodSandboxRequest) (*runtimeapi.ListPodSandboxResponse, error) {
	return &runtimeapi.ListPodSandboxResponse{Items: []*runtimeapi.PodSandbox{{
		Id: fakeSandbox, CreatedAt: fakeT0.UnixNano(),
		Metadata: &runtimeapi.PodSandboxMetadata{Name: "hog", Namespace: "default", Uid: "u1"},
	}}}, nil
}

func (f *fakeRuntime) ListContainers(context.Context, *runtimeapi.ListContainersRequest) (*runtimeapi.ListContainersResponse, error) {
	return &runtimeapi.ListContainersResponse{Containers: []*runtimeapi.Container{{
		Id: fakeContainer, PodSandboxId: fakeSandbox, State: runtimeapi.ContainerState_CONTAINER_EXITED,
		Metadata: &runtimeapi.ContainerMetadata{Name: "hog"},
	}}}, nil
}

func (f *fakeRuntime) ContainerStatus(context.Context, *runtimeapi.ContainerStatusRequest) (*runtimeapi.ContainerStatusResponse, error) {
	return &runtimeapi.ContainerStatusResponse{Status: &runtimeapi.ContainerStatus{
		Id: fakeContainer, Metadata: &runtimeapi.ContainerMetadata{Name: "hog"}, State: runtimeapi.ContainerState_CONTAINER_EXITED,
		CreatedAt: fakeT0.Add(time.Second).UnixNano(), StartedAt: fakeT0.Add(2 * time.Second).UnixNano(),
		FinishedAt: fakeT0.Add(5 * time.Second).UnixNano(), ExitCode: 137, Reason: "OOMKilled",
	}}, nil
}

// serve runs rt on a unix socket in a temporary directory.
func serve(t *testing.T, rt runtimeapi.RuntimeServiceServer) string {
	t.Helper()
	sock := filepath.Join(t.TempDir(), "cri.sock")
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer()
	runtimeapi.RegisterRuntimeServiceServer(srv, rt)
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(srv.Stop)
	return "unix://" + sock
}

// TestStatusAndExitReason: the runtime's Status conditions reach OnStatus on
// every poll, and a container's exit carries the CRI's reason (OOMKilled).
func TestStatusAndExitReason(t *testing.T) {
	rt := &fakeRuntime{}
	endpoint := serve(t, rt)
	var mu sync.Mutex
	var conds []map[string]bool
	var events []event.Event
	src := New(Config{Endpoint: endpoint, PollInterval: 50 * time.Millisecond, OnStatus: func(c map[string]bool) {
		mu.Lock()
		conds = append(conds, c)
		mu.Unlock()
	}})
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = src.Run(ctx, func(ev event.Event) {
			mu.Lock()
			events = append(events, ev)
			mu.Unlock()
		})
	}()
	deadline := time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		n := len(conds)
		mu.Unlock()
		if n >= 2 || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	rt.mu.Lock()
	rt.networkUp = true
	rt.mu.Unlock()
	deadline = time.Now().Add(5 * time.Second)
	for {
		mu.Lock()
		last := map[string]bool{}
		if len(conds) > 0 {
			last = conds[len(conds)-1]
		}
		mu.Unlock()
		if last["NetworkReady"] || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	cancel()
	<-done

	mu.Lock()
	defer mu.Unlock()
	if len(conds) < 3 {
		t.Fatalf("OnStatus called %d times, want a poll after another", len(conds))
	}
	if c := conds[0]; !c["RuntimeReady"] || c["NetworkReady"] {
		t.Errorf("first status %v, want RuntimeReady true and NetworkReady false", c)
	}
	if c := conds[len(conds)-1]; !c["NetworkReady"] {
		t.Errorf("last status %v, want NetworkReady true once the network came up", c)
	}
	var exit *event.Event
	for i := range events {
		if events[i].Kind == event.ContainerExited {
			exit = &events[i]
		}
	}
	if exit == nil {
		t.Fatalf("no exit among %+v", events)
	}
	if exit.Reason != "OOMKilled" || exit.ExitCode != 137 || !exit.HasExit || exit.Pod.Key() != "default/hog" || exit.Container != "hog" {
		t.Errorf("exit %+v, want OOMKilled 137 of default/hog's container hog", *exit)
	}
}
