#!/bin/sh
# Container start command for DiffusionService (deploy/Dockerfile's ENTRYPOINT; deploy/smoke-test.sh runs it too).
#
# The service treats an empty Diffusion__Model__Path as "serve the built-in tiny model". A real model is a folder in
# the diffusers/Optimum ONNX layout with model_index.json at its root, mounted at $DIFFUSION_MODELS_DIR (/models).
# An empty /models (or none) must not be handed to the service as a model path, so the path is set only when the
# mount really holds a model, and only when the operator did not set Diffusion__Model__Path explicitly nor list models
# in Diffusion__Models__* (the service refuses both at once).
set -eu

app_dir="${DIFFUSION_APP_DIR:-/app}"
models_dir="${DIFFUSION_MODELS_DIR:-/models}"

if [ -z "${Diffusion__Model__Path:-}" ] && [ -z "${Diffusion__Models__0__Name:-}" ]; then
    if [ -f "$models_dir/model_index.json" ]; then
        Diffusion__Model__Path="$models_dir"
        export Diffusion__Model__Path
        echo "entrypoint: serving the model mounted at $models_dir" >&2
    elif [ -d "$models_dir" ] && [ -n "$(ls -A "$models_dir" 2>/dev/null)" ]; then
        echo "entrypoint: $models_dir is not empty but has no model_index.json; serving the built-in tiny model" >&2
    else
        echo "entrypoint: no model mounted at $models_dir; serving the built-in tiny model" >&2
    fi
fi

# ASP.NET Core reads appsettings.json from its content root, the working directory: start in the app folder whatever
# working directory the runtime (docker run -w, a pod's workingDir, the smoke test) chose.
cd "$app_dir"

# exec: the service replaces this shell (PID 1 in the container) and receives SIGTERM itself, so it can drain its queue.
exec dotnet "$app_dir/DiffusionApi.dll" "$@"
