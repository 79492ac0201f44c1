#!/usr/bin/env bash
# The CI action's one step (action.yml): install armor, add the files to each dist, publish them in
# one release. Inputs come as environment variables, so the step runs the same outside a runner
# (the tests run it against the local stack). Fails, naming the input, when one is missing.
set -euo pipefail

die() { printf 'armor action: %s\n' "$*" >&2; exit 1; }
for var in ARMOR_ENDPOINT ARMOR_TOKEN ARMOR_REPOSITORY ARMOR_SIGNING_KEY INPUT_FILES; do
  [ -n "${!var:-}" ] || die "the input behind $var is empty"
done
dists=${INPUT_DISTS:-stable}
component=${INPUT_COMPONENT:-main}
tmp=${RUNNER_TEMP:-$(mktemp -d)}

# armor: given (ARMOR_CLI, as the tests do), downloaded, already installed, or built here.
if [ -n "${ARMOR_CLI:-}" ]; then
  read -r -a armor <<<"$ARMOR_CLI"
elif [ -n "${INPUT_CLI_URL:-}" ]; then
  curl -fsSL --retry 3 -o "$tmp/armor" "$INPUT_CLI_URL" || die "cannot download armor from $INPUT_CLI_URL"
  chmod +x "$tmp/armor"
  armor=("$tmp/armor")
elif command -v armor >/dev/null; then
  armor=(armor)
else
  [ -n "${ACTION_PATH:-}" ] || die "no armor on PATH and no cli-url; set cli-url to the standalone executable"
  (cd "$ACTION_PATH" && npm install --no-audit --no-fund >&2 && npm run build:exe >&2)
  armor=("$ACTION_PATH/dist/armor")
fi
"${armor[@]}" --version >&2

# Files: one path or glob pattern per line; a pattern that matches nothing is a mistake.
files=()
shopt -s nullglob
while IFS= read -r pattern; do
  pattern=${pattern#"${pattern%%[![:space:]]*}"}
  pattern=${pattern%"${pattern##*[![:space:]]}"}
  [ -n "$pattern" ] || continue
  # shellcheck disable=SC2206 # the pattern is meant to expand as a glob
  matched=($pattern)
  [ ${#matched[@]} -gt 0 ] || die "no file matches $pattern"
  files+=("${matched[@]}")
done <<<"$INPUT_FILES"
[ ${#files[@]} -gt 0 ] || die "files lists nothing to publish"

# One process: upload, add to every dist, generate, sign and activate (armor publish --add).
dist_args=()
for dist in $dists; do dist_args+=(--dist "$dist"); done
result=$("${armor[@]}" publish "${dist_args[@]}" --component "$component" --add "${files[@]}" --json)
printf '%s\n' "$result"
if [ -n "${GITHUB_OUTPUT:-}" ]; then
  # A multi-line output, in the runner's heredoc form.
  printf 'result<<ARMOR_RESULT_EOF\n%s\nARMOR_RESULT_EOF\n' "$result" >>"$GITHUB_OUTPUT"
fi
