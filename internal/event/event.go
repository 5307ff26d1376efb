// Package event is the small vocabulary shared by podstart's stages: sources
// (journal parsers, the CRI client) produce Events, the timeline consumes them.
// It imports nothing else from podstart.
package event

import "time"

// Kind names what a log line or CRI observation means for a pod start. The
// names are stable: `node-agent parse` prints them and the README lists them.
type Kind string

// The kinds podstart recognises. Each comment says which line or call yields it.
const (
	Unrecognised Kind = "unrecognised"

	// Kubelet sync loop.
	PodAdd    Kind = "pod_add"    // "SyncLoop ADD"
	PodUpdate Kind = "pod_update" // "SyncLoop UPDATE"
	PodDelete Kind = "pod_delete" // "SyncLoop DELETE"
	PodRemove Kind = "pod_remove" // "SyncLoop REMOVE"
	// "No sandbox for pod can be found. Need to start a new one".
	PodNoSandbox Kind = "pod_no_sandbox"
	// "Pod admission denied".
	PodAdmissionDenied Kind = "pod_admission_denied"
	// "Error syncing pod, skipping": Reason holds the kubelet's error class.
	PodSyncError Kind = "pod_sync_error"

	// Volumes.
	VolumeVerifyStarted Kind = "volume_verify_started" // "operationExecutor.VerifyControllerAttachedVolume started" (V0)
	VolumeMountStarted  Kind = "volume_mount_started"  // "operationExecutor.MountVolume started" (V1)
	VolumeMounted       Kind = "volume_mounted"        // "MountVolume.SetUp succeeded" (V1)
	VolumeMountFailed   Kind = "volume_mount_failed"   // "MountVolume.SetUp failed", FailedMount, "Unable to attach or mount volumes"

	// Sandbox.
	SandboxStart  Kind = "sandbox_start"  // containerd "RunPodSandbox for …", kubelet "Creating PodSandbox for pod" (V4)
	SandboxReady  Kind = "sandbox_ready"  // "… returns sandbox id", kubelet "Created PodSandbox for pod" (V4)
	SandboxFailed Kind = "sandbox_failed" // "RunPodSandbox … failed", "CreatePodSandbox for pod failed", FailedCreatePodSandBox
	// containerd "StopPodSandbox for …": the pod is going away (or its
	// sandbox is being replaced).
	SandboxStopped Kind = "sandbox_stopped"

	// Images.
	ImagePullStart   Kind = "image_pull_start"   // containerd "PullImage \"…\"", event Pulling
	ImagePulled      Kind = "image_pulled"       // "… returns image reference", event Pulled "Successfully pulled image"
	ImagePullDetail  Kind = "image_pull_detail"  // containerd "Pulled image … size \"N\" in D": runtime-side duration and size
	ImageCached      Kind = "image_cached"       // event Pulled "already present on machine"
	ImagePullFailed  Kind = "image_pull_failed"  // "PullImage … failed", "Failed to pull image", event Failed "Failed to pull image"
	ImagePullBackOff Kind = "image_pull_backoff" // event BackOff "Back-off pulling image"

	// Containers.
	ContainerCreateStart  Kind = "container_create_start"  // containerd "CreateContainer within sandbox … for container …"
	ContainerCreated      Kind = "container_created"       // "… returns container id", event Created
	ContainerCreateFailed Kind = "container_create_failed" // "CreateContainer … failed", event Failed "Error: …" before start
	ContainerStartStart   Kind = "container_start_start"   // containerd "StartContainer for …"
	ContainerStarted      Kind = "container_started"       // "… returns successfully", event Started, PLEG ContainerStarted
	ContainerStartFailed  Kind = "container_start_failed"  // "StartContainer … failed", RunContainerError
	ContainerExited       Kind = "container_exited"        // PLEG ContainerDied, "container finished", containerd exit event
	ContainerBackOff      Kind = "container_backoff"       // CrashLoopBackOff: event BackOff "Back-off restarting failed container"
	ContainerKilling      Kind = "container_killing"       // "Killing container with a grace period", event Killing

	// Probes and readiness.
	ProbeFailed Kind = "probe_failed" // "Probe failed", event Unhealthy
	PodReady    Kind = "pod_ready"    // "SyncLoop (probe)" probe="readiness" status="ready"
	ProbeStatus Kind = "probe_status" // any other "SyncLoop (probe)" line

	// The kubelet's own startup latency tracker ("Observed pod startup duration").
	StartupTracker Kind = "startup_tracker"

	// An "Event occurred" line whose reason podstart does not map to a stage.
	KubeEvent Kind = "kube_event"

	// The kubelet process started ("Starting kubelet" / kubelet version line).
	KubeletStart Kind = "kubelet_start"
)

// Source says which component reported an event.
type Source string

// Sources. The CRI source comes with the CRI issue; the constant is here so
// the timeline can prefer its timestamps.
const (
	SourceKubelet Source = "kubelet"
	SourceRuntime Source = "runtime"
	SourceCRI     Source = "cri"
)

// PodRef names a pod as far as a line names it. Any field may be empty.
type PodRef struct {
	Namespace string
	Name      string
	UID       string
}

// Key returns "namespace/name", or "" when the name is unknown.
func (p PodRef) Key() string {
	if p.Name == "" {
		return ""
	}
	return p.Namespace + "/" + p.Name
}

// Event is one observation about a pod start. Fields that a line does not
// state are left zero.
type Event struct {
	Kind   Kind
	Time   time.Time
	Source Source

	Pod PodRef
	// Pods lists every pod of a line that names several (a SyncLoop batch);
	// Pod is then the first of them.
	Pods        []PodRef
	Container   string
	Init        bool // the line says the container is an init container (fieldPath spec.initContainers)
	Attempt     int
	SandboxID   string
	ContainerID string
	Image       string
	ImageRef    string
	ImageSize   int64

	Volume string // the volume's name in the pod spec
	Plugin string // the volume plugin, from the UniqueName (e.g. kubernetes.io/configmap)

	// Duration is a duration the line itself states (a pull "in 1.2s", a
	// startup tracker's E2E). HasDuration distinguishes a stated zero.
	Duration    time.Duration
	HasDuration bool

	Reason   string // a failure reason from a bounded set (see Reasons), or a probe type
	Message  string // the error or message text as logged
	ExitCode int
	HasExit  bool

	// Startup tracker values.
	SLO         time.Duration
	HasSLO      bool
	PullingTime time.Duration
}

// Failure reasons: a bounded set, so that they can be metric label values.
// They follow the kubelet's own container waiting reasons and event reasons.
const (
	ReasonErrImagePull               = "ErrImagePull"
	ReasonImagePullBackOff           = "ImagePullBackOff"
	ReasonInvalidImageName           = "InvalidImageName"
	ReasonErrImageNeverPull          = "ErrImageNeverPull"
	ReasonRegistryUnavailable        = "RegistryUnavailable"
	ReasonFailedMount                = "FailedMount"
	ReasonFailedCreatePodSandBox     = "FailedCreatePodSandBox"
	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	ReasonCreateContainerError       = "CreateContainerError"
	ReasonRunContainerError          = "RunContainerError"
	ReasonCrashLoopBackOff           = "CrashLoopBackOff"
	ReasonReadinessProbeFailed       = "ReadinessProbeFailed"
	ReasonLivenessProbeFailed        = "LivenessProbeFailed"
	ReasonStartupProbeFailed         = "StartupProbeFailed"
	ReasonAdmissionDenied            = "AdmissionDenied"
	ReasonOther                      = "Other"
)

// Reasons lists every failure reason, in a stable order.
var Reasons = []string{
	ReasonErrImagePull, ReasonImagePullBackOff, ReasonInvalidImageName, ReasonErrImageNeverPull,
	ReasonRegistryUnavailable, ReasonFailedMount, ReasonFailedCreatePodSandBox,
	ReasonCreateContainerConfigError, ReasonCreateContainerError, ReasonRunContainerError,
	ReasonCrashLoopBackOff, ReasonReadinessProbeFailed, ReasonLivenessProbeFailed,
	ReasonStartupProbeFailed, ReasonAdmissionDenied, ReasonOther,
}
