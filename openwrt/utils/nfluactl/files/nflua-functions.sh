# shellcheck shell=busybox
