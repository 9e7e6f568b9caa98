#!/usr/bin/env bash
# Smoke test of the container's start command without a container engine.
#
# Publishes src/DiffusionApi exactly as deploy/Dockerfile does, lays the output out in a temp directory the way the
# image does (/app, /models, /data become <tmp>/app, <tmp>/models, <tmp>/data), applies the runtime stage's ENV lines
# from the Dockerfile with those paths moved, and runs the Dockerfile's ENTRYPOINT. It then proves, over HTTP on
# 127.0.0.1 only:
#   1. the published folder carries the native libraries the service needs (ONNX Runtime, SkiaSharp);
#   2. with nothing in /models the service becomes ready on the built-in tiny model, written under the data directory;
#   3. POST /v1/generate answers a PNG; /health/live answers; /metrics exposes diffusion_queue_depth (the chart's
#      autoscaling metric); the playground page and its script are in the published assembly (GET /, /playground/…);
#   4. SIGTERM stops it within Diffusion__ShutdownTimeoutSeconds plus a margin;
#   5. with a model folder mounted at /models (the tiny model copied there) the entrypoint points the service at it,
#      and it becomes ready and generates again.
#
# Usage: deploy/smoke-test.sh [PUBLISH_DIR]
#   PUBLISH_DIR  an existing `dotnet publish` output to test instead of publishing afresh.
# Environment: SMOKE_READY_TIMEOUT (seconds to wait for /health/ready, default 240), SMOKE_PUBLISH_TIMEOUT (default
#   900), SMOKE_KEEP=1 keeps the temp directory. Exit status 0 on success, 1 on any failure (the server log is printed).
set -euo pipefail

repo_root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
dockerfile="$repo_root/deploy/Dockerfile"
ready_timeout="${SMOKE_READY_TIMEOUT:-240}"
publish_timeout="${SMOKE_PUBLISH_TIMEOUT:-900}"
shutdown_timeout_default=30   # Diffusion:ShutdownTimeoutSeconds default (docs/api.md, "Configuration")

work="$(mktemp -d "${TMPDIR:-/tmp}/diffusion-smoke.XXXXXX")"
server_pid=""
server_log=""

log() { printf 'smoke: %s\n' "$*" >&2; }

print_server_log() {
    if [[ -n "$server_log" && -f "$server_log" ]]; then
        log "---- server log ($server_log, last 200 lines) ----"
        tail -n 200 "$server_log" >&2 || true
        log "---- end of server log ----"
    fi
}

fail() {
    log "FAILED: $*"
    print_server_log
    exit 1
}

stop_server() {
    if [[ -n "$server_pid" ]] && kill -0 "$server_pid" 2>/dev/null; then
        kill -TERM "$server_pid" 2>/dev/null || true
        for _ in $(seq 1 50); do
            kill -0 "$server_pid" 2>/dev/null || break
            sleep 0.2
        done
        kill -KILL "$server_pid" 2>/dev/null || true
        wait "$server_pid" 2>/dev/null || true
    fi
    server_pid=""
}

cleanup() {
    local status=$?
    stop_server
    if [[ "${SMOKE_KEEP:-0}" == "1" ]]; then
        log "kept $work"
    else
        rm -rf "$work"
    fi
    exit "$status"
}
trap cleanup EXIT
trap 'fail "interrupted"' INT TERM

# Maps an image path (/app/..., /models, /data/...) to its place under the temp directory; other values pass through.
map_path() {
    local value="$1" root
    for root in /app /models /data; do
        if [[ "$value" == "$root" || "$value" == "$root"/* ]]; then
            printf '%s%s' "$work" "$value"
            return
        fi
    done
    printf '%s' "$value"
}

# The runtime stage is everything after the Dockerfile's last FROM.
runtime_stage() {
    awk '/^FROM[[:space:]]/ { stage = "" } { stage = stage $0 "\n" } END { printf "%s", stage }' "$dockerfile"
}

# ---------------------------------------------------------------------------------------------------------------------
# The image's environment and start command, read from the Dockerfile so the two cannot drift apart.
declare -a image_env=()
while IFS= read -r line; do
    name="${line%%=*}"
    value="${line#*=}"
    image_env+=("$name=$(map_path "$value")")
done < <(runtime_stage | sed -n 's/^ENV[[:space:]]\{1,\}\([A-Za-z_][A-Za-z0-9_]*\)=\(.*\)$/\1=\2/p')
(( ${#image_env[@]} > 0 )) || fail "no 'ENV NAME=value' lines found in the runtime stage of $dockerfile"

entrypoint_line="$(runtime_stage | grep -E '^ENTRYPOINT[[:space:]]+\[' | tail -n 1 || true)"
[[ -n "$entrypoint_line" ]] || fail "no exec-form ENTRYPOINT found in the runtime stage of $dockerfile"
entrypoint="$(printf '%s' "$entrypoint_line" | sed -E 's/^ENTRYPOINT[[:space:]]+\[[[:space:]]*"([^"]+)".*$/\1/')"
entrypoint="$(map_path "$entrypoint")"

shutdown_timeout="$shutdown_timeout_default"
for kv in "${image_env[@]}"; do
    if [[ "$kv" == Diffusion__ShutdownTimeoutSeconds=* ]]; then
        shutdown_timeout="${kv#*=}"
    fi
done

# ---------------------------------------------------------------------------------------------------------------------
# /app: the publish output plus the scripts the Dockerfile copies next to it.
mkdir -p "$work/app" "$work/models" "$work/data"
if [[ $# -ge 1 ]]; then
    [[ -f "$1/DiffusionApi.dll" ]] || fail "$1 is not a publish folder of src/DiffusionApi (no DiffusionApi.dll)"
    log "using publish output $1"
    cp -a "$1/." "$work/app/"
else
    log "publishing src/DiffusionApi (as deploy/Dockerfile does) into $work/app"
    (cd "$repo_root" && timeout "$publish_timeout" dotnet publish src/DiffusionApi -c Release -r linux-x64 \
        --self-contained false -o "$work/app" -nologo -v quiet) >"$work/publish.log" 2>&1 \
        || { tail -n 50 "$work/publish.log" >&2; fail "dotnet publish failed (log above)"; }
fi
# As the Dockerfile's publish step: the Windows native ONNX Runtime DLLs are not part of the image.
rm -f "$work/app"/onnxruntime*.dll
cp "$repo_root/deploy/docker-entrypoint.sh" "$repo_root/deploy/healthcheck.sh" "$work/app/"
chmod 0755 "$work/app/docker-entrypoint.sh" "$work/app/healthcheck.sh"
[[ -x "$entrypoint" ]] || fail "the Dockerfile's ENTRYPOINT maps to $entrypoint, which is not an executable file"

# The image has no package manager step for these: the publish output itself must carry them.
for native in libonnxruntime.so libonnxruntime_providers_shared.so libSkiaSharp.so; do
    [[ -f "$work/app/$native" ]] || fail "publish output lacks $native (the container would not find it either)"
done
log "publish output carries libonnxruntime.so, libonnxruntime_providers_shared.so, libSkiaSharp.so"

# ---------------------------------------------------------------------------------------------------------------------
port_is_free() { ! (exec 3<>"/dev/tcp/127.0.0.1/$1") 2>/dev/null; }

pick_port() {
    local candidate
    for _ in $(seq 1 50); do
        candidate=$(( 20000 + RANDOM % 20000 ))
        if port_is_free "$candidate"; then
            printf '%s' "$candidate"
            return
        fi
    done
    fail "no free port found on 127.0.0.1"
}

# Starts the entrypoint with the image's environment only (plus what `dotnet` itself needs from ours), bound to
# loopback: ASPNETCORE_URLS overrides the image's ASPNETCORE_HTTP_PORTS=8080 (all interfaces) for this test alone.
start_server() {
    local name="$1"
    port="$(pick_port)"
    base_url="http://127.0.0.1:$port"
    server_log="$work/server-$name.log"
    log "starting $entrypoint on $base_url ($name)"
    env -i \
        PATH="$PATH" HOME="${HOME:-$work}" TMPDIR="${TMPDIR:-/tmp}" \
        ${DOTNET_ROOT:+DOTNET_ROOT="$DOTNET_ROOT"} \
        "${image_env[@]}" \
        ASPNETCORE_URLS="$base_url" \
        "$entrypoint" >"$server_log" 2>&1 &
    server_pid=$!
}

wait_ready() {
    local deadline=$(( SECONDS + ready_timeout ))
    while (( SECONDS < deadline )); do
        kill -0 "$server_pid" 2>/dev/null || fail "the server exited before /health/ready answered 200"
        if curl -fsS --max-time 5 -o /dev/null "$base_url/health/ready" 2>/dev/null; then
            log "/health/ready answered 200 after $(( SECONDS - deadline + ready_timeout ))s"
            return
        fi
        sleep 1
    done
    fail "/health/ready did not answer 200 within ${ready_timeout}s"
}

expect_status() {
    local path="$1" code
    code="$(curl -sS --max-time 10 -o /dev/null -w '%{http_code}' "$base_url$path" || true)"
    [[ "$code" == "200" ]] || fail "GET $path answered ${code:-nothing}, expected 200"
}

generate_png() {
    local out="$work/generated-$1.png" headers="$work/generated-$1.headers" code magic
    code="$(curl -sS --max-time 180 -o "$out" -D "$headers" -w '%{http_code}' \
        -H 'Content-Type: application/json' \
        --data '{"prompt":"a red apple","size":"64x64","steps":2}' \
        "$base_url/v1/generate" || true)"
    if [[ "$code" != "200" ]]; then
        log "response body: $(head -c 2000 "$out" 2>/dev/null || true)"
        fail "POST /v1/generate answered ${code:-nothing}, expected 200"
    fi
    magic="$(head -c 8 "$out" | od -An -tx1 | tr -d ' \n')"
    [[ "$magic" == "89504e470d0a1a0a" ]] || fail "POST /v1/generate did not answer a PNG (first bytes: $magic)"
    grep -qi '^content-type: image/png' "$headers" || fail "POST /v1/generate answered without Content-Type image/png"
    log "POST /v1/generate answered a $(wc -c <"$out")-byte PNG ($(grep -i '^x-seed:' "$headers" | tr -d '\r' || true))"
}

expect_metric() {
    local body
    body="$(curl -sS --max-time 10 "$base_url/metrics" || true)"
    grep -q '^diffusion_queue_depth' <<<"$body" \
        || fail "/metrics has no diffusion_queue_depth series (the chart's autoscaler scales on it)"
    log "/metrics exposes diffusion_queue_depth"
}

stop_gracefully() {
    local limit=$(( shutdown_timeout + 15 )) started=$SECONDS status=0
    kill -TERM "$server_pid"
    while kill -0 "$server_pid" 2>/dev/null; do
        (( SECONDS - started < limit )) || fail "the server did not exit within ${limit}s of SIGTERM"
        sleep 0.2
    done
    wait "$server_pid" || status=$?
    server_pid=""
    log "SIGTERM: exited with status $status after $(( SECONDS - started ))s"
}

# ---------------------------------------------------------------------------------------------------------------------
# 1. Nothing mounted at /models: the built-in tiny model, created under the data directory.
start_server tiny
wait_ready
grep -q 'no model mounted' "$server_log" || fail "the entrypoint did not report the empty model mount"
expect_status /health/live
expect_status /
expect_status /playground/playground.js
generate_png tiny
expect_metric
[[ -f "$work/data/models/tiny-sd/model_index.json" ]] \
    || fail "the tiny model was not written under Diffusion__DataDirectory ($work/data/models/tiny-sd)"
stop_gracefully

# 2. A model folder mounted at /models: the entrypoint must hand it to the service.
cp -a "$work/data/models/tiny-sd/." "$work/models/"
start_server mounted
wait_ready
grep -q "serving the model mounted at $work/models" "$server_log" \
    || fail "the entrypoint did not select the model mounted at $work/models"
generate_png mounted
stop_gracefully

log "OK"
