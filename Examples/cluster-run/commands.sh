#!/usr/bin/env bash
# The exact commands for a real cluster with ingress-nginx and Envoy Gateway installed, and DNS (or
# /etc/hosts) sending trino.example.com and trino-gw.example.com to their load balancers.
# Tests/FlapCLITests/ClusterRunExampleTests.swift runs these same flags against the fake API server.
set -euo pipefail
cd "$(dirname "$0")"

kubectl apply -f manifests/ -f rbac.yaml
kubectl -n trino rollout status deployment/trino-coordinator --timeout=5m
kubectl -n trino wait --for=condition=Accepted httproute/trino --timeout=2m

ROUTES=(-n trino
        --ingress trino --ingress-url http://trino.example.com
        --httproute trino --httproute-url http://trino-gw.example.com)
MUTATIONS=(--mutation delete-recreate --mutation httproute:remove-readd-backend:trino-b --mutation neighbour-change:neighbour)

# Access, objects and Trino reachability; prints the minimal Role (rbac.yaml holds it).
swift run flap-cli doctor "${ROUTES[@]}" "${MUTATIONS[@]}"

# Every write it would make, without making it.
swift run flap-cli run "${ROUTES[@]}" "${MUTATIONS[@]}" --dry-run

# The run: 5 rounds of 60-second slots, 2 queries/s of TPC-H per arm; gates decide the exit code (3 = failed).
swift run flap-cli run "${ROUTES[@]}" "${MUTATIONS[@]}" \
    --catalog tpch --schema sf1 --query 'SELECT count(*) FROM lineitem' \
    --rate 2 --interval 60s --iterations 5 \
    --require 'survival(gateway-remove-readd-trino-b) >= 0.99' \
    --require 'p99(gateway-control) < 30s' \
    --output flap-results
