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

	// The kubelet process started ("Kubelet version", the first line a
	// kubelet logs at every verbosity).
	KubeletStart Kind = "kubelet_start"

	// The runtime reported an out-of-memory kill in a container (containerd
	// "TaskOOM event"); the container's exit follows.
	ContainerOOM Kind = "container_oom"
	// The eviction manager evicted the pod ("Eviction manager: pod is
	// evicted successfully", event Evicted).
	PodEvicted Kind = "pod_evicted"
	// A problem of the node itself rather than of one pod: Reason holds one
	// of the Problem values.
	NodeProblem Kind = "node_problem"
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

	Reason   string // a failure reason from a bounded set (see Reasons), a probe type, or a Problem
	Message  string // the error or message text as logged
	ExitCode int
	HasExit  bool

	// PID is the process that logged the line when its header says so (the
	// klog header's thread ID is the PID): a new kubelet PID is a restart.
	PID int

	// Startup tracker values.
	SLO         time.Duration
	HasSLO      bool
	PullingTime time.Duration
}

// Failure reasons: a bounded set, so that they can be metric label values.
// They follow the kubelet's own container waiting reasons and event reasons;
// a few split one of the kubelet's reasons by the error text, where the
// text says what an operator does next (the registry, the credentials, the
// image name, the CNI plugin).
const (
	ReasonErrImagePull      = "ErrImagePull"
	ReasonImagePullBackOff  = "ImagePullBackOff"
	ReasonInvalidImageName  = "InvalidImageName"
	ReasonErrImageNeverPull = "ErrImageNeverPull"
	// The registry did not answer: DNS, connection refused or timed out,
	// TLS, 5xx (and the CRI's own RegistryUnavailable).
	ReasonRegistryUnavailable = "RegistryUnavailable"
	// The registry refused the credentials (401, 403, "pull access denied").
	ReasonRegistryUnauthorized = "RegistryUnauthorized"
	// The registry answered that the image or tag does not exist.
	ReasonImageNotFound = "ImageNotFound"
	ReasonFailedMount   = "FailedMount"
	// A volume mount started but did not succeed within the kubelet's
	// wait (2m3s). Since kubelet 1.28 nothing is logged when that wait
	// merely times out: the timeline derives it from the missing success.
	ReasonMountTimeout           = "MountTimeout"
	ReasonFailedCreatePodSandBox = "FailedCreatePodSandBox"
	// FailedCreatePodSandBox whose error comes from setting up the pod's
	// network (the CNI plugin).
	ReasonFailedCreatePodSandBoxCNI = "FailedCreatePodSandBoxCNI"
	// The kubelet does not start pods while the runtime says its network
	// is not ready ("network is not ready: …"; the kubelet's event reason).
	ReasonNetworkNotReady            = "NetworkNotReady"
	ReasonCreateContainerConfigError = "CreateContainerConfigError"
	ReasonCreateContainerError       = "CreateContainerError"
	ReasonRunContainerError          = "RunContainerError"
	ReasonCrashLoopBackOff           = "CrashLoopBackOff"
	// A container was killed for exceeding its memory limit (the CRI's exit
	// reason, or containerd's TaskOOM before an exit).
	ReasonOOMKilled            = "OOMKilled"
	ReasonReadinessProbeFailed = "ReadinessProbeFailed"
	ReasonLivenessProbeFailed  = "LivenessProbeFailed"
	ReasonStartupProbeFailed   = "StartupProbeFailed"
	ReasonAdmissionDenied      = "AdmissionDenied"
	// The kubelet's eviction manager evicted the pod (node pressure).
	ReasonEvicted = "Evicted"
	ReasonOther   = "Other"
)

// Reasons lists every failure reason, in a stable order.
var Reasons = []string{
	ReasonErrImagePull, ReasonImagePullBackOff, ReasonInvalidImageName, ReasonErrImageNeverPull,
	ReasonRegistryUnavailable, ReasonRegistryUnauthorized, ReasonImageNotFound,
	ReasonFailedMount, ReasonMountTimeout, ReasonFailedCreatePodSandBox, ReasonFailedCreatePodSandBoxCNI,
	ReasonNetworkNotReady, ReasonCreateContainerConfigError, ReasonCreateContainerError, ReasonRunContainerError,
	ReasonCrashLoopBackOff, ReasonOOMKilled, ReasonReadinessProbeFailed, ReasonLivenessProbeFailed,
	ReasonStartupProbeFailed, ReasonAdmissionDenied, ReasonEvicted, ReasonOther,
}

// Node problems: the Reason of a NodeProblem event, a bounded set (metric
// label values). Each is a step on the road to a NotReady or Unknown node,
// or to evictions.
const (
	// "PLEG is not healthy": the kubelet's relist of the runtime took longer
	// than 3 minutes; the node goes NotReady.
	ProblemPLEGUnhealthy = "pleg_unhealthy"
	// "container runtime is down", "Container runtime sanity check failed":
	// the kubelet cannot reach the runtime.
	ProblemRuntimeDown = "runtime_down"
	// "Container runtime not ready": the runtime answers RuntimeReady=false.
	ProblemRuntimeNotReady = "runtime_not_ready"
	// "Container runtime network not ready": NetworkReady=false (no CNI).
	ProblemNetworkNotReady = "network_not_ready"
	// "Error updating node status, will retry": the API server did not take
	// the node's status; past its grace period the node turns Unknown.
	ProblemNodeStatusUpdate = "node_status_update_failed"
	// "Failed to ensure lease exists" / "Failed to update lease": the
	// node's heartbeat lease was not renewed; the node turns Unknown.
	ProblemLeaseUpdate = "lease_update_failed"
	// "Node became not ready": the kubelet itself set Ready=False.
	ProblemNodeNotReady = "node_not_ready"
	// "Image garbage collection failed multiple times in a row".
	ProblemImageGCFailed = "image_gc_failed"
	// "Disk usage on image filesystem is over the high threshold": image
	// garbage collection starts removing images.
	ProblemImageFSPressure = "image_fs_pressure"
	// "Eviction manager: attempting to reclaim": a node pressure condition,
	// by the resource the eviction manager reclaims.
	ProblemDiskPressure   = "disk_pressure"   // ephemeral-storage, inodes (nodefs or imagefs)
	ProblemMemoryPressure = "memory_pressure" // memory
	ProblemPIDPressure    = "pid_pressure"    // pids
)

// Problems lists every node problem, in a stable order.
var Problems = []string{
	ProblemPLEGUnhealthy, ProblemRuntimeDown, ProblemRuntimeNotReady, ProblemNetworkNotReady,
	ProblemNodeStatusUpdate, ProblemLeaseUpdate, ProblemNodeNotReady, ProblemImageGCFailed,
	ProblemImageFSPressure, ProblemDiskPressure, ProblemMemoryPressure, ProblemPIDPressure,
}

// Exit reasons of containers as runtimes report them (the CRI's
// ContainerStatus.reason): a bounded set for restart counts. Anything else
// is ExitOther.
const (
	ExitCompleted          = "Completed"
	ExitError              = "Error"
	ExitOOMKilled          = "OOMKilled"
	ExitContainerCannotRun = "ContainerCannotRun"
	ExitDeadlineExceeded   = "DeadlineExceeded"
	ExitUnknown            = "Unknown" // no exit seen before the restart
	ExitOther              = "Other"
)

// ExitReasons lists the exit reasons, in a stable order.
var ExitReasons = []string{ExitCompleted, ExitError, ExitOOMKilled, ExitContainerCannotRun, ExitDeadlineExceeded, ExitUnknown, ExitOther}
