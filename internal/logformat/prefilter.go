package logformat

import (
	"strconv"
	"strings"
	"unicode/utf8"
)

// Most lines are about something else than pod starts, and decoding a
// quoted message that holds escapes (`\"`) costs an allocation and a
// rune-by-rune copy. So a message is first checked, still quoted, against
// how the messages the mappings read begin; only one that may be among
// them is decoded. prefilter_test.go checks that these lists hold every
// message and prefix the mappings in kubelet.go, containerd.go and crio.go
// compare with.

// kubeletHeads: the beginnings of the kubelet messages kubeletEvent maps.
var kubeletHeads = heads{
	"SyncLoop ", "No sandbox for pod ", "Generic (PLEG): container finished",
	"Creating PodSandbox for pod", "Created PodSandbox for pod", "CreatePodSandbox for pod ", "createPodSandbox for pod ",
	"Failed to create sandbox for pod", "RunPodSandbox from runtime service failed",
	"Failed to pull image", "PullImage from image service failed", "Error syncing pod",
	"Unable to attach or mount volumes for pod; skipping pod", "Back-off restarting failed container",
	"Probe failed", "Probe errored", "Probe unknown without error", "Killing container with a grace period",
	"Pod admission denied", "Observed pod startup duration", "Event occurred", "Kubelet version",
	"operationExecutor.VerifyControllerAttachedVolume started for volume ",
	"operationExecutor.MountVolume started for volume ", "MountVolume.SetUp succeeded for volume ",
	"Operation for ", "Event(v1.ObjectReference{",
	"Eviction manager: pod is evicted successfully", "Skipping pod synchronization", "Eviction manager: attempting to reclaim",
	"Container runtime sanity check failed", "Container runtime not ready", "Container runtime network not ready",
	"Error updating node status, will retry", "Unable to update node status", "Failed to ensure lease exists, will retry",
	"Failed to update lease", "Node became not ready", "Image garbage collection failed multiple times in a row",
	"Disk usage on image filesystem is over the high threshold, trying to free bytes down to the low threshold",
	"skipping pod synchronization - ", "failed to ensure lease exists, will retry", "failed to update lease, error: ",
}

// kubeletContains: text found anywhere in messages kubeletEvent maps.
var kubeletContains = []string{` probe for \"`}

// runtimeHeads: the beginnings of the containerd and CRI-O messages
// containerdEvent and crioEvent map.
var runtimeHeads = heads{
	"RunPodSandbox for ", "RunPodsandbox for ", "PullImage ", "Pulled image ", "CreateContainer within sandbox ",
	"StartContainer for ", "StopPodSandbox for ", "received container exit event ", "received exit event ",
	"TaskExit event ", "TaskOOM event ",
	// CRI-O
	"Running pod sandbox: ", "Ran pod sandbox ", "Pulling image: ", "Pulled image: ", "Creating container: ",
	"Created container ", "Starting container: ", "Started container",
}

// heads are how messages begin, decoded.
type heads []string

// mayMatch reports whether the message whose quoted text (without the
// quotes, escapes as written) is raw may begin with one of h. Up to its
// first backslash the quoted text is the message itself; after it the
// message is unknown until decoded, so a head that reaches past that point
// may still match.
func (h heads) mayMatch(raw string) bool {
	known := raw
	exact := true
	if i := strings.IndexByte(raw, '\\'); i >= 0 {
		known, exact = raw[:i], false
	}
	for _, p := range h {
		if strings.HasPrefix(known, p) || (!exact && strings.HasPrefix(p, known)) {
			return true
		}
	}
	return false
}

// kubeletMayMatch is mayMatch for kubelet messages.
func kubeletMayMatch(raw string) bool {
	if kubeletHeads.mayMatch(raw) {
		return true
	}
	for _, s := range kubeletContains {
		if strings.Contains(raw, s) {
			return true
		}
	}
	return false
}

// runtimeMayMatch is mayMatch for runtime messages, including those that
// wrap a whole line of another component (k0s re-logs the kubelet's and
// containerd's lines inside msg).
func runtimeMayMatch(raw string) bool {
	return runtimeHeads.mayMatch(raw) || klogStarts(raw) || strings.HasPrefix(raw, `time=\"`)
}

// validQuoted reports whether s, the text between the quotes of a
// double-quoted string, decodes without error as strconv.Unquote decodes
// it, without decoding it: lines whose message is not decoded are still
// told apart when they are malformed.
func validQuoted(s string) bool {
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\n', '"':
			return false
		case '\\':
			i++
			if i >= len(s) {
				return false
			}
			switch c := s[i]; c {
			case 'a', 'b', 'f', 'n', 'r', 't', 'v', '\\', '"':
			case 'x':
				if !hexDigits(s, i+1, 2) {
					return false
				}
				i += 2
			case 'u', 'U':
				n := 4
				if c == 'U' {
					n = 8
				}
				if !hexDigits(s, i+1, n) {
					return false
				}
				var v uint64 // not a rune: \U80000000 would wrap negative
				for _, d := range s[i+1 : i+1+n] {
					v = v<<4 | uint64(unhex(byte(d)))
				}
				if v > utf8MaxRune || (v >= 0xD800 && v < 0xE000) {
					return false
				}
				i += n
			case '0', '1', '2', '3', '4', '5', '6', '7':
				if i+2 >= len(s) {
					return false
				}
				v := 0
				for _, d := range s[i : i+3] {
					if d < '0' || d > '7' {
						return false
					}
					v = v<<3 | int(d-'0')
				}
				if v > 255 {
					return false
				}
				i += 2
			default:
				return false
			}
		}
	}
	return true
}

const utf8MaxRune = '\U0010FFFF'

func hexDigits(s string, i, n int) bool {
	if i+n > len(s) {
		return false
	}
	for _, c := range []byte(s[i : i+n]) {
		if unhex(c) < 0 {
			return false
		}
	}
	return true
}

func unhex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}

// unquote is strconv.Unquote for a double-quoted string, faster on what
// loggers write: text between escapes is copied in runs, and the common
// escapes are decoded here; the rest go through strconv.UnquoteChar.
func unquote(q string) (string, error) {
	if len(q) < 2 || q[0] != '"' || q[len(q)-1] != '"' {
		return "", strconv.ErrSyntax
	}
	s := q[1 : len(q)-1]
	i := strings.IndexByte(s, '\\')
	if i < 0 {
		if strings.IndexByte(s, '"') >= 0 || strings.IndexByte(s, '\n') >= 0 {
			return "", strconv.ErrSyntax
		}
		if !utf8.ValidString(s) {
			return strconv.Unquote(q)
		}
		return s, nil
	}
	if !utf8.ValidString(s) {
		return strconv.Unquote(q) // it decodes invalid UTF-8 its own way
	}
	b := make([]byte, 0, len(s))
	for {
		run := s[:i]
		if strings.IndexByte(run, '"') >= 0 || strings.IndexByte(run, '\n') >= 0 {
			return "", strconv.ErrSyntax
		}
		b = append(b, run...)
		s = s[i:]
		if s == "" {
			break
		}
		// s starts with a backslash.
		if len(s) < 2 {
			return "", strconv.ErrSyntax
		}
		switch s[1] {
		case '"', '\\':
			b = append(b, s[1])
			s = s[2:]
		case 'n':
			b = append(b, '\n')
			s = s[2:]
		case 't':
			b = append(b, '\t')
			s = s[2:]
		default:
			r, multibyte, tail, err := strconv.UnquoteChar(s, '"')
			if err != nil {
				return "", err
			}
			if r < utf8.RuneSelf || !multibyte {
				b = append(b, byte(r))
			} else {
				b = utf8.AppendRune(b, r)
			}
			s = tail
		}
		if i = strings.IndexByte(s, '\\'); i < 0 {
			i = len(s)
		}
	}
	return string(b), nil
}
