#!/usr/bin/env bash
# Regenerates the TypeScript gRPC code in src/generated/ from proto/ (and the standard health
# service shipped with grpc-health-check) with ts-proto. The output is committed, so a build never
# needs protoc; run this after editing a .proto and commit the result (`npm run proto`).
# Reproducible: same protoc + ts-proto versions -> byte-identical files (ts-proto writes its and
# protoc's versions in each header, so a diff shows a tool change).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
OUT="$ROOT/src/generated"
PLUGIN="$ROOT/node_modules/.bin/protoc-gen-ts_proto"
HEALTH_DIR="$ROOT/node_modules/grpc-health-check/proto"
PROTOC="${PROTOC:-protoc}"

command -v "$PROTOC" >/dev/null || { echo "gen-proto: protoc not found (apt-get install protobuf-compiler)" >&2; exit 1; }
[ -x "$PLUGIN" ] || { echo "gen-proto: ts-proto not installed (npm ci)" >&2; exit 1; }

# oneof=unions: a oneof is a tagged union ({ $case: 'start', start }), so TypeScript checks every case.
# forceLong=number: int64 fields are plain numbers (sizes, coordinates and counts stay far below 2^53).
# fromPartial() fills unset fields with proto3 defaults (encode needs every field present).
OPTS="outputServices=grpc-js,esModuleInterop=true,forceLong=number,oneof=unions,env=node,useExactTypes=false"

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$PROTOC" --plugin="protoc-gen-ts_proto=$PLUGIN" --ts_proto_out="$TMP" --ts_proto_opt="$OPTS" \
  -I "$ROOT/proto" -I "$HEALTH_DIR" \
  h2gnet/v1/segmentation.proto health/v1/health.proto
# ts-proto's output is not prettier-formatted; keep it as generated (it is excluded from lint).
rm -rf "$OUT"
mkdir -p "$OUT"
cp -r "$TMP"/. "$OUT"/
echo "gen-proto: wrote $(find "$OUT" -name '*.ts' | wc -l) files to src/generated/"
