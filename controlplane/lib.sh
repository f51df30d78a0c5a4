# Shared settings for the control-plane scripts. Sourced, not run.
# shellcheck shell=bash

CP_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
REPO_ROOT=$(cd "$CP_DIR/.." && pwd)
CP_OUT=${KUBECLIENT_CONTROLPLANE_DIR:-$REPO_ROOT/target/controlplane}
CP_BIN=$CP_OUT/bin

# shellcheck source=controlplane/versions.env
. "$CP_DIR/versions.env"

# The Go settings every build uses (issue #2): no cgo, the machine's own toolchain,
# modules resolved from go.mod. The checksum database is reached through the module proxy
# (GOPROXY/sumdb/...), and go.sum is committed, so no GOSUMDB/GONOSUMDB override is needed.
export CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod

# "v1.37.2" -> staging modules' "v0.37.2".
staging_version() { echo "v0.${KUBERNETES_VERSION#v1.}"; }

SECONDS_START=$SECONDS
say() { printf '[controlplane %4ss] %s\n' "$((SECONDS - SECONDS_START))" "$*"; }
die() { printf 'controlplane: error: %s\n' "$*" >&2; exit 1; }
