// Package cri reads the container runtime through the CRI v1 API over its
// unix socket and turns what it sees into the same typed events the journal
// parsers produce: sandboxes and containers with the runtime's own
// nanosecond timestamps, exit codes and reasons, and image sizes.
//
// It follows the runtime's container event stream where that is safe
// (containerd 2.0 and newer, CRI-O 1.28 and newer) and otherwise polls the
// list calls at a bounded interval, asking for one container's status only
// when its state changed. It knows nothing of Prometheus: request counting
// comes in as gRPC dial options.
package cri

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"

	"github.com/podstart/podstart/internal/event"
)

// DefaultEndpoints are tried in order when the endpoint is "auto": crictl's
// own probe list.
var DefaultEndpoints = []string{
	"unix:///run/containerd/containerd.sock",
	"unix:///var/run/crio/crio.sock",
	"unix:///run/cri-dockerd.sock",
}

// Labels the kubelet sets on every sandbox and container.
const (
	labelPodName       = "io.kubernetes.pod.name"
	labelPodNamespace  = "io.kubernetes.pod.namespace"
	labelPodUID        = "io.kubernetes.pod.uid"
	labelContainerName = "io.kubernetes.container.name"
)

// maxMsgSize matches the kubelet's CRI client: list answers on a busy node
// are large.
const maxMsgSize = 16 << 20

// Config configures the CRI source.
type Config struct {
	// Endpoint is unix:///path, or "auto" to try DefaultEndpoints.
	Endpoint string
	// CallTimeout bounds every unary call.
	CallTimeout time.Duration
	// PollInterval is the list interval when the event stream is not used.
	PollInterval time.Duration
	// Since: at start, sandboxes created before it are not reported (their
	// pods started before the agent looked); newer ones are, so that
	// in-flight starts can finish their timelines.
	Since time.Time
	// DialOptions are added to the gRPC dial (request metrics).
	DialOptions []grpc.DialOption
	// ForcePoll never subscribes to events.
	ForcePoll bool
	Logger    *slog.Logger
	// OnState is told when the runtime connection comes up or goes down.
	OnState func(up bool, err error)
	// OnReconnect is told each time the source reconnects after a failure.
	OnReconnect func()
	// OnStatus is told the runtime's Status conditions (RuntimeReady,
	// NetworkReady, …: true or false) every PollInterval while connected,
	// from a goroutine of its own.
	OnStatus func(conditions map[string]bool)
}

// Source is the CRI source. New, then Run.
type Source struct {
	cfg Config
	log *slog.Logger

	mu       sync.Mutex
	up       bool
	lastErr  error
	mode     string
	endpoint string

	// What the source has reported, so that a relist reports only changes.
	sandboxes  map[string]bool                      // id → reported
	old        map[string]bool                      // sandboxes from before Since: never reported
	containers map[string]runtimeapi.ContainerState // id → last reported state
	imageSizes map[string]int64
}

// New returns a source; it connects in Run.
func New(cfg Config) *Source {
	if cfg.CallTimeout <= 0 {
		cfg.CallTimeout = 5 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 2 * time.Second
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	return &Source{cfg: cfg, log: cfg.Logger,
		sandboxes: map[string]bool{}, old: map[string]bool{}, containers: map[string]runtimeapi.ContainerState{}, imageSizes: map[string]int64{}}
}

// Mode says how the source reads the runtime: "events", "poll", or "" before
// it connected.
func (s *Source) Mode() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.mode
}

// Ready returns nil while connected to the runtime, else why not.
func (s *Source) Ready() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.up {
		return nil
	}
	if s.lastErr != nil {
		return fmt.Errorf("cri: %w", s.lastErr)
	}
	return errors.New("cri: not connected yet")
}

func (s *Source) setState(up bool, err error) {
	s.mu.Lock()
	s.up, s.lastErr = up, err
	s.mu.Unlock()
	if s.cfg.OnState != nil {
		s.cfg.OnState(up, err)
	}
}

// Run reads the runtime until ctx ends, handing every event to emit (from
// Run's goroutine only). A runtime that is down, restarts or is not up yet is
// retried with backoff; after each reconnect the lists are read again to
// fill the gap.
func (s *Source) Run(ctx context.Context, emit func(event.Event)) error {
	backoff := time.Second
	first := true
	for {
		err := s.session(ctx, emit, first)
		if ctx.Err() != nil {
			s.setState(false, nil)
			return nil
		}
		s.setState(false, err)
		s.log.Warn("container runtime (CRI) unavailable; retrying", "endpoint", s.cfg.Endpoint, "err", err, "retry_in", backoff)
		select {
		case <-ctx.Done():
			return nil
		case <-time.After(backoff):
		}
		if backoff *= 2; backoff > 30*time.Second {
			backoff = 30 * time.Second
		}
		if s.cfg.OnReconnect != nil {
			s.cfg.OnReconnect()
		}
		if s.isUp() {
			backoff = time.Second
		}
		first = false
	}
}

func (s *Source) isUp() bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.up
}

// resolve picks the endpoint: the configured one, or the first of the
// defaults whose socket exists.
func (s *Source) resolve() (string, error) {
	if s.cfg.Endpoint != "" && s.cfg.Endpoint != "auto" {
		return s.cfg.Endpoint, nil
	}
	for _, e := range DefaultEndpoints {
		if _, err := os.Stat(strings.TrimPrefix(e, "unix://")); err == nil {
			return e, nil
		}
	}
	return "", fmt.Errorf("no container runtime socket found (tried %s)", strings.Join(DefaultEndpoints, ", "))
}

// session connects once and reads until an error.
func (s *Source) session(ctx context.Context, emit func(event.Event), first bool) error {
	endpoint, conn, err := s.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	rt := runtimeapi.NewRuntimeServiceClient(conn)
	img := runtimeapi.NewImageServiceClient(conn)

	vctx, cancel := context.WithTimeout(ctx, s.cfg.CallTimeout)
	v, err := rt.Version(vctx, &runtimeapi.VersionRequest{})
	cancel()
	if err != nil {
		return fmt.Errorf("CRI Version at %s: %w", endpoint, err)
	}
	mode := "poll"
	if !s.cfg.ForcePoll && eventsSafe(v.GetRuntimeName(), v.GetRuntimeVersion()) {
		mode = "events"
	}
	s.mu.Lock()
	s.mode, s.endpoint = mode, endpoint
	s.mu.Unlock()
	s.log.Info("connected to the container runtime", "endpoint", endpoint, "runtime", v.GetRuntimeName(), "version", v.GetRuntimeVersion(), "mode", mode)
	c := &client{s: s, rt: rt, img: img, emit: emit}
	if s.cfg.OnStatus != nil {
		// The runtime's own view of whether it and the pod network are
		// ready: asked on a timer in both modes, as the event stream says
		// nothing of it.
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		go c.statusLoop(sctx)
	}

	if mode == "events" {
		// Subscribe first, then list: nothing that happens in between is
		// lost, and duplicates are harmless.
		sctx, cancel := context.WithCancel(ctx)
		defer cancel()
		stream, err := rt.GetContainerEvents(sctx, &runtimeapi.GetEventsRequest{})
		if err != nil {
			return fmt.Errorf("CRI GetContainerEvents: %w", err)
		}
		if err := c.relist(ctx, first); err != nil {
			return err
		}
		s.setState(true, nil)
		for {
			ev, err := stream.Recv()
			if err != nil {
				if ctx.Err() != nil {
					return nil
				}
				if errors.Is(err, io.EOF) {
					// CRI-O without pod events closes the stream at once.
					return errors.New("CRI event stream closed by the runtime")
				}
				return fmt.Errorf("CRI event stream: %w", err)
			}
			c.onEvent(ctx, ev)
		}
	}
	if err := c.relist(ctx, first); err != nil {
		return err
	}
	s.setState(true, nil)
	t := time.NewTicker(s.cfg.PollInterval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
			if err := c.relist(ctx, false); err != nil {
				return err
			}
		}
	}
}

// connect resolves the endpoint and opens a client connection to it.
func (s *Source) connect() (string, *grpc.ClientConn, error) {
	endpoint, err := s.resolve()
	if err != nil {
		return "", nil, err
	}
	conn, err := s.dial(endpoint)
	return endpoint, conn, err
}

// dial opens a client connection to a unix socket endpoint.
func (s *Source) dial(endpoint string) (*grpc.ClientConn, error) {
	if !strings.HasPrefix(endpoint, "unix://") {
		return nil, fmt.Errorf("CRI endpoint %q: only unix:// sockets are supported", endpoint)
	}
	if _, err := os.Stat(strings.TrimPrefix(endpoint, "unix://")); err != nil {
		return nil, fmt.Errorf("CRI socket %s: %w", endpoint, err)
	}
	opts := append([]grpc.DialOption{
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallRecvMsgSize(maxMsgSize)),
	}, s.cfg.DialOptions...)
	conn, err := grpc.NewClient(endpoint, opts...)
	if err != nil {
		return nil, fmt.Errorf("CRI endpoint %s: %w", endpoint, err)
	}
	return conn, nil
}

// eventsSafe decides from the Version RPC whether subscribing is safe: on
// containerd 1.7 a second subscriber steals events from the kubelet's
// Evented PLEG; containerd 2.0 and CRI-O 1.28 broadcast to every subscriber.
func eventsSafe(name, version string) bool {
	major, minor := semver(version)
	switch strings.ToLower(name) {
	case "containerd":
		return major >= 2
	case "cri-o":
		return major > 1 || (major == 1 && minor >= 28)
	}
	return false
}

func semver(v string) (int, int) {
	v = strings.TrimPrefix(v, "v")
	parts := strings.SplitN(v, ".", 3)
	major, _ := strconv.Atoi(parts[0])
	minor := 0
	if len(parts) > 1 {
		minor, _ = strconv.Atoi(strings.TrimFunc(parts[1], func(r rune) bool { return r < '0' || r > '9' }))
	}
	return major, minor
}

// client is one connected session.
type client struct {
	s    *Source
	rt   runtimeapi.RuntimeServiceClient
	img  runtimeapi.ImageServiceClient
	emit func(event.Event)
}

func (c *client) call(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, c.s.cfg.CallTimeout)
}

// statusLoop asks the runtime's Status now and every PollInterval until ctx
// ends. A failed call reports nothing: the session's own calls notice a
// runtime that went away.
func (c *client) statusLoop(ctx context.Context) {
	t := time.NewTicker(c.s.cfg.PollInterval)
	defer t.Stop()
	for {
		cctx, cancel := c.call(ctx)
		resp, err := c.rt.Status(cctx, &runtimeapi.StatusRequest{})
		cancel()
		if err == nil && resp.GetStatus() != nil {
			conds := map[string]bool{}
			for _, cd := range resp.GetStatus().GetConditions() {
				if cd.GetType() != "" {
					conds[cd.GetType()] = cd.GetStatus()
				}
			}
			c.s.cfg.OnStatus(conds)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// relist reads every sandbox and container and reports what changed since
// the last look. On the first look after start, sandboxes older than Since
// are only remembered.
func (c *client) relist(ctx context.Context, initial bool) error {
	cctx, cancel := c.call(ctx)
	sbs, err := c.rt.ListPodSandbox(cctx, &runtimeapi.ListPodSandboxRequest{})
	cancel()
	if err != nil {
		return fmt.Errorf("CRI ListPodSandbox: %w", err)
	}
	cctx, cancel = c.call(ctx)
	ctrs, err := c.rt.ListContainers(cctx, &runtimeapi.ListContainersRequest{})
	cancel()
	if err != nil {
		return fmt.Errorf("CRI ListContainers: %w", err)
	}
	s := c.s
	pods := map[string]event.PodRef{}
	seenSB := map[string]bool{}
	old := s.old
	for _, sb := range sbs.GetItems() {
		id := sb.GetId()
		seenSB[id] = true
		ref := sandboxRef(sb.GetMetadata(), sb.GetLabels())
		pods[id] = ref
		if s.sandboxes[id] {
			continue
		}
		s.sandboxes[id] = true
		if initial && !s.cfg.Since.IsZero() && time.Unix(0, sb.GetCreatedAt()).Before(s.cfg.Since) {
			old[id] = true
			continue
		}
		c.emit(event.Event{Kind: event.SandboxStart, Time: time.Unix(0, sb.GetCreatedAt()).UTC(), Source: event.SourceCRI,
			Pod: ref, SandboxID: id, Attempt: int(sb.GetMetadata().GetAttempt())})
	}
	for id := range s.sandboxes {
		if !seenSB[id] {
			delete(s.sandboxes, id)
			delete(s.old, id)
		}
	}
	seenC := map[string]bool{}
	for _, ct := range ctrs.GetContainers() {
		id := ct.GetId()
		seenC[id] = true
		prev, known := s.containers[id]
		if known && prev == ct.GetState() {
			continue
		}
		s.containers[id] = ct.GetState()
		if old[ct.GetPodSandboxId()] {
			continue
		}
		// One status call per changed container: the list has no start or
		// finish times.
		cctx, cancel := c.call(ctx)
		st, err := c.rt.ContainerStatus(cctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
		cancel()
		if err != nil {
			delete(s.containers, id) // look again next time
			continue
		}
		c.container(ctx, st.GetStatus(), ct.GetPodSandboxId(), pods[ct.GetPodSandboxId()], !known)
	}
	for id := range s.containers {
		if !seenC[id] {
			delete(s.containers, id)
		}
	}
	return nil
}

// container reports a container's status: created, started and finished
// as far as they happened.
func (c *client) container(ctx context.Context, st *runtimeapi.ContainerStatus, sandboxID string, pod event.PodRef, fresh bool) {
	if st == nil {
		return
	}
	if pod.Name == "" {
		pod = labelsRef(st.GetLabels())
	}
	name := st.GetMetadata().GetName()
	if name == "" {
		name = st.GetLabels()[labelContainerName]
	}
	base := event.Event{Source: event.SourceCRI, Pod: pod, SandboxID: sandboxID, ContainerID: st.GetId(),
		Container: name, Attempt: int(st.GetMetadata().GetAttempt()), Image: st.GetImage().GetImage(), ImageRef: st.GetImageRef()}
	if fresh && st.GetCreatedAt() > 0 {
		ev := base
		ev.Kind, ev.Time = event.ContainerCreated, time.Unix(0, st.GetCreatedAt()).UTC()
		ev.ImageSize = c.imageSize(ctx, st.GetImageRef(), st.GetImage().GetImage())
		c.emit(ev)
	}
	if st.GetStartedAt() > 0 {
		ev := base
		ev.Kind, ev.Time = event.ContainerStarted, time.Unix(0, st.GetStartedAt()).UTC()
		c.emit(ev)
	}
	if st.GetFinishedAt() > 0 {
		ev := base
		ev.Kind, ev.Time = event.ContainerExited, time.Unix(0, st.GetFinishedAt()).UTC()
		ev.ExitCode, ev.HasExit = int(st.GetExitCode()), true
		ev.Reason, ev.Message = st.GetReason(), st.GetMessage()
		c.emit(ev)
	}
}

// imageSize asks ImageStatus once per image.
func (c *client) imageSize(ctx context.Context, ref, image string) int64 {
	key := ref
	if key == "" {
		key = image
	}
	if key == "" {
		return 0
	}
	s := c.s
	if n, ok := s.imageSizes[key]; ok {
		return n
	}
	cctx, cancel := c.call(ctx)
	resp, err := c.img.ImageStatus(cctx, &runtimeapi.ImageStatusRequest{Image: &runtimeapi.ImageSpec{Image: key}})
	cancel()
	if err != nil {
		return 0
	}
	n := int64(resp.GetImage().GetSize())
	if len(s.imageSizes) > 1024 {
		clear(s.imageSizes)
	}
	s.imageSizes[key] = n
	return n
}

// onEvent reports one event of the container event stream.
func (c *client) onEvent(ctx context.Context, ev *runtimeapi.ContainerEventResponse) {
	pss := ev.GetPodSandboxStatus()
	ref := sandboxRef(pss.GetMetadata(), pss.GetLabels())
	id := ev.GetContainerId()
	at := time.Unix(0, ev.GetCreatedAt()).UTC()
	s := c.s
	// A runtime may hand a new subscriber events it buffered before (and
	// the list may not have run yet): nothing from before Since, and
	// nothing of a sandbox that started before it, is reported.
	if s.old[pss.GetId()] || (!s.cfg.Since.IsZero() && at.Before(s.cfg.Since)) {
		return
	}
	if pss != nil && id == pss.GetId() {
		// The sandbox's own lifecycle. containerd stamps the sandbox's
		// created_at when RunPodSandbox begins and sends CREATED and
		// STARTED as it returns.
		if ev.GetContainerEventType() == runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT {
			if !s.sandboxes[id] && pss.GetCreatedAt() > 0 {
				c.emit(event.Event{Kind: event.SandboxStart, Time: time.Unix(0, pss.GetCreatedAt()).UTC(), Source: event.SourceCRI,
					Pod: ref, SandboxID: id, Attempt: int(pss.GetMetadata().GetAttempt())})
			}
			s.sandboxes[id] = true
			c.emit(event.Event{Kind: event.SandboxReady, Time: at, Source: event.SourceCRI, Pod: ref, SandboxID: id})
		}
		if ev.GetContainerEventType() == runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT {
			delete(s.sandboxes, id)
		}
		return
	}
	var st *runtimeapi.ContainerStatus
	for _, cs := range ev.GetContainersStatuses() {
		if cs.GetId() == id {
			st = cs
		}
	}
	switch ev.GetContainerEventType() {
	case runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT:
		delete(s.containers, id)
		return
	case runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT:
		s.containers[id] = runtimeapi.ContainerState_CONTAINER_CREATED
	case runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT:
		s.containers[id] = runtimeapi.ContainerState_CONTAINER_RUNNING
	case runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT:
		s.containers[id] = runtimeapi.ContainerState_CONTAINER_EXITED
	}
	if st == nil {
		cctx, cancel := c.call(ctx)
		resp, err := c.rt.ContainerStatus(cctx, &runtimeapi.ContainerStatusRequest{ContainerId: id})
		cancel()
		if err != nil {
			return
		}
		st = resp.GetStatus()
	}
	c.container(ctx, st, pss.GetId(), ref, ev.GetContainerEventType() == runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
}

func sandboxRef(md *runtimeapi.PodSandboxMetadata, labels map[string]string) event.PodRef {
	if md != nil && md.GetName() != "" {
		return event.PodRef{Namespace: md.GetNamespace(), Name: md.GetName(), UID: md.GetUid()}
	}
	return labelsRef(labels)
}

func labelsRef(l map[string]string) event.PodRef {
	return event.PodRef{Namespace: l[labelPodNamespace], Name: l[labelPodName], UID: l[labelPodUID]}
}

// ListOnce connects, lists every sandbox and container once, reports them
// (all of them: Since does not apply) and disconnects. `report` uses it to
// give the pods the runtime still holds their exact ends.
func (s *Source) ListOnce(ctx context.Context, emit func(event.Event)) error {
	_, conn, err := s.connect()
	if err != nil {
		return err
	}
	defer conn.Close()
	c := &client{s: s, rt: runtimeapi.NewRuntimeServiceClient(conn), img: runtimeapi.NewImageServiceClient(conn), emit: emit}
	return c.relist(ctx, false)
}
