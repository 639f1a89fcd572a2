#!/bin/sh
# Writes overlays/gen-<GENERATION>: the outbox-worker Job of one generation.
#
#   GEN=$(kubectl logs job/outbox-allocate -c allocate | tail -n 1)   # see allocate/
#   deploy/k8s/new-generation.sh "$GEN" "$(git rev-parse --short HEAD)" ghcr.io/acme/shop-outbox-worker
#
# GENERATION is the number `outbox-worker generation allocate` printed; VERSION
# the git sha or image tag of this release; IMAGE your worker image (FROM the
# outbox-worker image, with your handlers), tagged VERSION. Then list the new
# overlay beside the previous generation's in overlays/release (docs/kubernetes.md).
set -eu
usage() { echo "usage: $0 GENERATION VERSION [IMAGE]" >&2; exit 2; }
[ $# -ge 2 ] && [ $# -le 3 ] || usage
gen=$1 version=$2 image=${3:-ghcr.io/cutover/outbox-worker}
case $gen in '' | *[!0-9]* | 0*) echo "$0: GENERATION must be a positive integer; got \"$gen\"" >&2; exit 2 ;; esac
case $version in '' | *[!A-Za-z0-9._-]*) echo "$0: VERSION must be a tag (letters, digits, . _ -); got \"$version\"" >&2; exit 2 ;; esac
dir=$(dirname "$0")/overlays/gen-$gen
[ -e "$dir" ] && { echo "$0: $dir exists already: a generation is deployed once" >&2; exit 1; }
mkdir -p "$dir"
cat >"$dir/kustomization.yaml" <<YAML
# Generation $gen ($version): written by deploy/k8s/new-generation.sh; do not edit by hand.
apiVersion: kustomize.config.k8s.io/v1beta1
kind: Kustomization
resources:
  - ../../base
nameSuffix: -g$gen
labels:
  - pairs:
      cutover.dev/generation: "$gen"
    includeSelectors: true
  - pairs:
      app.kubernetes.io/version: "$version"
images:
  - name: ghcr.io/cutover/outbox-worker
    newName: $image
    newTag: "$version"
patches:
  - patch: |-
      apiVersion: batch/v1
      kind: Job
      metadata:
        name: outbox-worker
      spec:
        template:
          spec:
            containers:
              - name: worker
                env:
                  - name: CUTOVER_GENERATION
                    value: "$gen"
                  - name: OUTBOX_VERSION
                    value: "$version"
YAML
echo "$dir"
