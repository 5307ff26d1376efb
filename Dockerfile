# podstart's node agent (cmd/node-agent), the image that deploy/ runs.
#
# Both base images are build arguments, so the same file builds from the public
# images (docker/podman, the defaults below) or offline from local ones
# (scripts/build-image makes them with debootstrap and builds with buildah).
# See docs/image.md.
#
#   docker build -t podstart/node-agent:dev --build-arg VERSION=dev .
#
# BUILDER_IMAGE: a Debian bookworm with Go 1.26 (go.mod) on PATH. gcc, libc6-dev
# and libsystemd-dev are installed when missing (the golang image lacks the last).
# RUNTIME_IMAGE: a Debian bookworm; libsystemd0 is installed when missing.
ARG BUILDER_IMAGE=golang:1.26-bookworm
ARG RUNTIME_IMAGE=debian:bookworm-slim

FROM ${BUILDER_IMAGE} AS builder
# The `node-agent --version` fields (github.com/prometheus/common/version).
ARG VERSION=unknown
ARG REVISION=
ARG BRANCH=
ARG BUILD_DATE=
# Handed to the go command as they are: empty means Go's defaults (the public
# module proxy). scripts/build-image sets GOPROXY to a read-only bind mount of
# the host's module download cache, so that the build needs no network.
ARG GOPROXY=
ARG GOFLAGS=-mod=readonly
# The journal reader (internal/journal/sd.go) is cgo and links libsystemd:
# the build needs a C compiler and the headers, the image libsystemd.so.0.
RUN set -eu; \
    missing=; \
    for p in gcc libc6-dev libsystemd-dev; do \
        dpkg-query -W -f='${Status}\n' "$p" 2>/dev/null | grep -qx 'install ok installed' || missing="$missing $p"; \
    done; \
    if [ -n "$missing" ]; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends $missing; \
        rm -rf /var/lib/apt/lists/*; \
    fi
WORKDIR /src
# .dockerignore keeps the context to go.mod, go.sum, cmd/ and internal/.
COPY . .
# Cache mounts keep the module and build caches across builds (BuildKit,
# podman and buildah); nothing of them ends up in an image.
RUN --mount=type=cache,target=/go/pkg/mod \
    --mount=type=cache,target=/root/.cache/go-build \
    set -eu; \
    export CGO_ENABLED=1 GOMODCACHE=/go/pkg/mod GOCACHE=/root/.cache/go-build; \
    go version; \
    go build -trimpath -o /out/node-agent \
        -ldflags "-X github.com/prometheus/common/version.Version=${VERSION} \
                  -X github.com/prometheus/common/version.Revision=${REVISION} \
                  -X github.com/prometheus/common/version.Branch=${BRANCH} \
                  -X github.com/prometheus/common/version.BuildDate=${BUILD_DATE}" \
        ./cmd/node-agent; \
    /out/node-agent --version

FROM ${RUNTIME_IMAGE}
ARG VERSION=unknown
ARG REVISION=
# libsystemd0, which the agent dlopens to read the journal. It must be at least
# as new as the systemd that writes the node's journal: a libsystemd older than
# the writer refuses files with incompatible features it does not know.
# Bookworm's 252 reads journals written by systemd 246 and later, with keyed
# hashes and zstd-compressed entries (246) and compact mode (252);
# scripts/build-image checks it on a recorded journal that has all three. A
# node whose systemd is newer than the image's libsystemd needs a newer base.
# debian:bookworm-slim (and the debootstrap minbase of scripts/build-image)
# already have libsystemd0, since apt depends on it, so this usually installs
# nothing and needs no network. No ca-certificates: the agent is no TLS client
# (it reads files and a unix socket; serving HTTPS with --web.config.file
# needs its own certificate, not a CA bundle).
RUN set -eu; \
    if ! dpkg-query -W -f='${Status}\n' libsystemd0 2>/dev/null | grep -qx 'install ok installed'; then \
        apt-get update; \
        DEBIAN_FRONTEND=noninteractive apt-get install -y --no-install-recommends libsystemd0; \
        rm -rf /var/lib/apt/lists/*; \
    fi
COPY --from=builder /out/node-agent /usr/local/bin/node-agent
LABEL org.opencontainers.image.title="podstart node-agent" \
      org.opencontainers.image.version="${VERSION}" \
      org.opencontainers.image.revision="${REVISION}"
# The metrics port (--web.listen-address=:9857).
EXPOSE 9857
# Root, on purpose: the journal files are root:systemd-journal 0640 and the
# systemd-journal gid differs between distributions, and containerd's socket is
# root-only; the DaemonSet runs it as uid 0 with every capability dropped, a
# read-only root filesystem and no privilege escalation (deploy/README.md, "The
# privilege story"). Stated here so that a base image with another USER does
# not change it.
USER 0
ENTRYPOINT ["/usr/local/bin/node-agent"]
