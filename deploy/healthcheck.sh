#!/bin/bash
# Docker HEALTHCHECK for DiffusionService: GET /health/live on the container's own port, healthy on HTTP 200.
# The image has no curl or wget, so this speaks HTTP/1.0 over bash's /dev/tcp. Kubernetes uses the chart's probes.
set -euo pipefail

# ASPNETCORE_HTTP_PORTS may list several ports ("8080;8081"); the first one is probed.
port="${ASPNETCORE_HTTP_PORTS:-8080}"
port="${port%%[;,]*}"

exec 3<>"/dev/tcp/127.0.0.1/$port"
printf 'GET /health/live HTTP/1.0\r\nHost: localhost\r\nConnection: close\r\n\r\n' >&3
IFS= read -r -t 4 status_line <&3
case "$status_line" in
    "HTTP/"*" 200"*) exit 0 ;;
    *) echo "health/live answered: ${status_line:-nothing}" >&2; exit 1 ;;
esac
