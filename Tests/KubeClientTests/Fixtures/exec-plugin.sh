#!/bin/sh
# A scripted credential plugin for tests. Reads its behaviour from environment variables set through the
# kubeconfig's exec.env: PLUGIN_STATE (a directory), PLUGIN_VERSION (apiVersion to answer),
# PLUGIN_EXPIRY (expirationTimestamp), PLUGIN_TOKENS (space-separated tokens, one per run).
set -eu
count=$(cat "$PLUGIN_STATE/runs" 2>/dev/null || echo 0)
count=$((count + 1))
echo "$count" > "$PLUGIN_STATE/runs"
printf '%s' "$KUBERNETES_EXEC_INFO" > "$PLUGIN_STATE/exec-info.json"
printf '%s\n' "$@" > "$PLUGIN_STATE/args"
echo "plugin run $count" >&2
token=$(echo "$PLUGIN_TOKENS" | cut -d' ' -f"$count")
[ -n "$token" ] || token=$(echo "$PLUGIN_TOKENS" | awk '{print $NF}')
printf '{"kind":"ExecCredential","apiVersion":"%s","spec":{},"status":{"token":"%s"%s}}\n' \
  "$PLUGIN_VERSION" "$token" "${PLUGIN_EXPIRY:+,\"expirationTimestamp\":\"$PLUGIN_EXPIRY\"}"
