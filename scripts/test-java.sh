#!/usr/bin/env bash
# Builds the QuPath extension and runs its JUnit tests (unit tests and end-to-end tests against the
# real `h2g serve`), then checks the extension jar: grpc/protobuf/guava/netty shaded and relocated,
# QuPath/JTS/gson/slf4j/JavaFX left out, Java 21 bytecode. Called by `npm run test:all` and CI.
# Offline-friendly: the qupath-stubs profile needs Maven Central only.
# `scripts/test-java.sh --check-jdk` only finds the JDK (CI runs it early, to fail fast).
set -euo pipefail
cd "$(dirname "$0")/.."

die() { echo "test-java: $*" >&2; exit 1; }

java_major() { # prints the major version of the JDK at $1, or nothing
  local v
  v=$("$1/bin/java" -XshowSettings:properties -version 2>&1 | sed -n 's/^ *java.specification.version = //p' | head -1)
  [[ "$v" =~ ^[0-9]+$ ]] && echo "$v"
}

# A JDK >= 21 (QuPath 0.6 is Java 21): $JAVA_HOME if it qualifies, else the newest under /usr/lib/jvm.
pick_jdk() {
  if [[ -n "${JAVA_HOME:-}" && -x "$JAVA_HOME/bin/javac" ]]; then
    local m; m=$(java_major "$JAVA_HOME" || true)
    if [[ -n "$m" && "$m" -ge 21 ]]; then echo "$JAVA_HOME"; return; fi
  fi
  local best="" best_major=0 dir m
  for dir in "${H2GNET_JVM_DIR:-/usr/lib/jvm}"/*/; do
    dir=${dir%/}
    [[ -x "$dir/bin/javac" ]] || continue
    m=$(java_major "$dir" || true)
    if [[ -n "$m" && "$m" -ge 21 && "$m" -gt "$best_major" ]]; then best=$dir; best_major=$m; fi
  done
  [[ -n "$best" ]] && echo "$best"
}

JDK=$(pick_jdk || true)
[[ -n "$JDK" ]] || die "no JDK >= 21 found (looked at \$JAVA_HOME and /usr/lib/jvm/*). QuPath 0.6 needs Java 21: install one (e.g. Temurin 25 in /usr/lib/jvm/temurin-25-jdk-amd64) or set JAVA_HOME."
export JAVA_HOME=$JDK
MAJOR=$(java_major "$JDK")
if [[ "${1:-}" == "--check-jdk" ]]; then echo "test-java: using $JDK (Java $MAJOR)"; exit 0; fi
command -v mvn >/dev/null || die "Maven (mvn) is not installed: apt-get install maven"
# Maven's bundled Guava touches sun.misc.Unsafe; JDK 23+ warns about it on every run.
if [[ "$MAJOR" -ge 23 ]]; then export MAVEN_OPTS="${MAVEN_OPTS:-} --sun-misc-unsafe-memory-access=allow"; fi

# The end-to-end tests start the real sidecar and need its build, Node, libvips and the shared slide.
[[ -f dist/cli/main.js ]] || die "the sidecar is not built (dist/cli/main.js missing): run npm ci (or npm run build) first"
command -v node >/dev/null || die "node is not installed"
command -v vips >/dev/null || die "the libvips CLI (vips) is not installed: apt-get install libvips-tools"
SHARED=${H2GNET_SHARED_DATA:-$(pwd)/../shared/data}
[[ -f "$SHARED/CMU-1-Small-Region.svs" ]] || die "shared test slide missing: $SHARED/CMU-1-Small-Region.svs (set H2GNET_SHARED_DATA)"

echo "== QuPath extension: Maven verify with $JDK (Java $MAJOR), profile qupath-stubs"
mvn -B -q -f qupath-extension/pom.xml -P qupath-stubs -Dh2gnet.sharedData="$SHARED" verify

JAR=qupath-extension/h2gnet-extension/target/qupath-extension-h2gnet-0.1.0.jar
[[ -f "$JAR" ]] || die "extension jar not built: $JAR"
ENTRIES=$("$JDK/bin/jar" tf "$JAR")
grep -qx 'META-INF/services/qupath.lib.gui.extensions.QuPathExtension' <<<"$ENTRIES" || die "jar lacks the QuPathExtension service file"
grep -q '^qupath/ext/h2gnet/shaded/io/grpc/netty/shaded/' <<<"$ENTRIES" || die "jar lacks the relocated gRPC/netty classes"
grep -q '^qupath/ext/h2gnet/shaded/com/google/protobuf/' <<<"$ENTRIES" || die "jar lacks the relocated protobuf classes"
LEAKS=$(grep -E '^(io/grpc|io/netty|io/perfmark|com/google/(protobuf|common|thirdparty)|qupath/lib|qupath/fx|org/locationtech|com/google/gson|javafx|org/slf4j|org/controlsfx)/' <<<"$ENTRIES" | head -5 || true)
[[ -z "$LEAKS" ]] || die "jar contains unrelocated or QuPath-provided classes, e.g.: $LEAKS"
CLASS_MAJOR=$("$JDK/bin/javap" -v -cp "$JAR" qupath.ext.h2gnet.ui.H2GNetExtension | sed -n 's/^ *major version: //p')
[[ "$CLASS_MAJOR" == 65 ]] || die "expected Java 21 bytecode (class major 65), got $CLASS_MAJOR"
echo "== QuPath extension: OK ($(du -h "$JAR" | cut -f1) jar, Java 21 bytecode)"

# Maven runs quietly (-q): state the JUnit counts from the Surefire/Failsafe reports in the plain form CI reads.
REPORTS=(qupath-extension/h2gnet-extension/target/{surefire,failsafe}-reports/TEST-*.xml)
awk 'match($0, /<testsuite [^>]*>/) {
       head = substr($0, RSTART, RLENGTH)
       for (k = 1; k <= 4; k++) { split("tests failures errors skipped", names, " "); n = names[k]
         if (match(head, n "=\"[0-9]+\"")) { v = substr(head, RSTART + length(n) + 2); sum[n] += v + 0 } }
     }
     END { printf "junit: %d passed, %d failed, %d skipped\n", sum["tests"] - sum["failures"] - sum["errors"] - sum["skipped"], sum["failures"] + sum["errors"], sum["skipped"] }' "${REPORTS[@]}"
