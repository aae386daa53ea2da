#!/bin/bash -e
# pi-gen runs this on the build host with ROOTFS_DIR set; POS_REPO and POS_WHEEL come from
# the config image-build/build.sh writes. The same script `make image-test` runs.
"${POS_REPO}/image-build/install-into-root.sh" "${ROOTFS_DIR}" "${POS_WHEEL}" \
	"${POS_REPO}/requirements/build.lock" "${POS_REPO}/requirements/pi.lock"
