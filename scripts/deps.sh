#!/usr/bin/env bash
# Installs what building and testing podstart needs, idempotently: Debian
# packages (only the missing ones) and pinned Go tools, cached outside the
# repository. Quick when everything is already there.
#   scripts/deps.sh build   what `make run` needs
#   scripts/deps.sh test    what `make test` and `make e2e` need
set -euo pipefail

what=${1:-test}
STATICCHECK_VERSION=v0.8.2

case "$what" in
build) pkgs=(libsystemd-dev zstd) ;;
# prometheus: promtool for the rule tests, and the server the e2e run
# scrapes the agent with; prometheus-alertmanager: the e2e run's Alertmanager.
test) pkgs=(libsystemd-dev zstd systemd-journal-remote prometheus prometheus-alertmanager) ;;
*) echo "usage: $0 build|test" >&2; exit 2 ;;
esac

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if ((${#missing[@]})); then
	echo "installing Debian packages: ${missing[*]}" >&2
	sudo=""
	[ "$(id -u)" -eq 0 ] || sudo=sudo
	export DEBIAN_FRONTEND=noninteractive
	# --no-install-recommends: the prometheus packages are here for promtool
	# and for servers the tests start themselves; policy-rc.d keeps the
	# packages from starting a Prometheus or Alertmanager service.
	if [ ! -e /usr/sbin/policy-rc.d ]; then
		printf '#!/bin/sh\nexit 101\n' | $sudo tee /usr/sbin/policy-rc.d >/dev/null
		$sudo chmod +x /usr/sbin/policy-rc.d
		trap '$sudo rm -f /usr/sbin/policy-rc.d' EXIT
	fi
	$sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null ||
		{ $sudo apt-get update >/dev/null && $sudo apt-get install -y --no-install-recommends "${missing[@]}" >/dev/null; }
fi

if [ "$what" = test ]; then
	bin="${XDG_CACHE_HOME:-$HOME/.cache}/podstart/tools/staticcheck-$STATICCHECK_VERSION"
	if [ ! -x "$bin/staticcheck" ]; then
		echo "installing staticcheck $STATICCHECK_VERSION" >&2
		GOBIN="$bin" go install "honnef.co/go/tools/cmd/staticcheck@$STATICCHECK_VERSION"
	fi
fi
