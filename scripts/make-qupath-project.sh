#!/usr/bin/env bash
# Regenerates test/fixtures/qupath-project/project.qpproj with the real QuPath 0.6.0 (../shared/qupath,
# built from QuPath's source) and its own libraries from the local Maven repository (gson, guava,
# slf4j, JTS, commons-math: fetch them with `mvn -f ../shared/qupath/v0.6.0/deps.pom
# dependency:resolve`). The project lists CMU-1-Small-Region.svs, broken.svs and a slide that does
# not exist, all under ../shared/data; the committed file records this checkout's absolute paths, and
# h2g finds the slides relative to the project when the checkout lives elsewhere, as QuPath does.
# Needs a JDK >= 21 (found as scripts/test-java.sh finds it).
set -euo pipefail
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
QP="${H2GNET_QUPATH_DIR:-$ROOT/../shared/qupath/v0.6.0}"
M2="${MAVEN_REPO:-$HOME/.m2/repository}"
DATA="$(cd "$ROOT/../shared/data" && pwd)"
OUT="$ROOT/test/fixtures/qupath-project"
JDK="$(bash "$ROOT/scripts/test-java.sh" --check-jdk | sed -n 's/^test-java: using \(.*\) (Java.*/\1/p')"

jar() { # the newest version of a Maven artifact in the local repository
  local found
  found="$(ls -d "$M2/$1"/*/ 2>/dev/null | sort -V | tail -1)"
  [[ -n "$found" ]] || { echo "make-qupath-project: $1 not in $M2 (see the header)" >&2; exit 1; }
  ls "$found"*.jar | grep -v -- '-sources\|-javadoc' | head -1
}
CP="$QP/qupath-core.jar:$QP/qupath-extension-openslide.jar"
for a in com/google/code/gson/gson com/google/guava/guava org/slf4j/slf4j-api org/locationtech/jts/jts-core \
  org/apache/commons/commons-math3; do
  CP="$CP:$(jar "$a")"
done

TMP="$(mktemp -d)"
trap 'rm -rf "$TMP"' EXIT
"$JDK/bin/java" -cp "$CP" "$ROOT/scripts/qupath/MakeProject.java" "$TMP" \
  "$DATA/CMU-1-Small-Region.svs" "$DATA/broken.svs" "$DATA/no-such-slide.svs" 2> >(grep -v '^SLF4J' >&2)
mkdir -p "$OUT"
# The project's own URI as if it had been made in place (QuPath records where it was saved).
sed "s#file:$TMP/#file:$OUT/#" "$TMP/project.qpproj" >"$OUT/project.qpproj"
echo "$OUT/project.qpproj"
