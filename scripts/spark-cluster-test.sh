#!/usr/bin/env bash
# The Spark engine's longer test (minutes; not part of mvn verify): on a loopback standalone cluster
# (scripts/spark-standalone.sh: master + one worker on 127.0.0.1, plain Spark 4.0.4 jars) the same
# sweep runs three ways and must give the same rows as the local engine:
#   1. submitted with spark-submit (SparkSubmit on the plain Spark class path: the cluster's Jackson
#      comes first, so this is where an unrelocated Jackson in trnsim-spark.jar would fail);
#   2. from ./trnsim with an in-process driver (--master spark://127.0.0.1:7077);
#   3. resumed: the submitted results cut to half (and a partial line), submitted again.
# Prints each run's wall time. Starts the cluster if it is not running, and then stops it again.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$repo"
out="$repo/target/spark-cluster-test"
rm -rf "$out"
mkdir -p "$out"
master="spark://127.0.0.1:${SPARK_PORT:-7077}"
jar="$repo/sim-spark/target/trnsim-spark.jar"

# 16 points of a few seconds each (four hardware variants; a 300 W power limit binds on the largest).
sweep=(sweep -H trn2 -w gemm:m=2048,k=2048,n=2048 --set chip.power.limit=300W
  --vary chip.hbm.bandwidth=2TB/s,3TB/s,4TB/s,5TB/s --vary workload.k=1024,2048,4096,8192 --no-progress --format json)

started=false
if ! scripts/spark-standalone.sh status >/dev/null 2>&1; then
  scripts/spark-standalone.sh start
  started=true
fi
cleanup() {
  if $started; then
    scripts/spark-standalone.sh stop
  fi
}
trap cleanup EXIT

# Builds trnsim.jar and trnsim-spark.jar if sources changed.
./trnsim --version >/dev/null
./trnsim sweep --engine spark --help >/dev/null

timed() {
  local name="$1"
  shift
  local t0 t1
  t0=$(date +%s.%N)
  "$@" >"$out/$name.json" 2>"$out/$name.err" || { echo "FAIL: $name exited $?"; cat "$out/$name.err"; exit 1; }
  t1=$(date +%s.%N)
  awk -v n="$name" -v a="$t0" -v b="$t1" 'BEGIN { printf "%-10s %6.1f s\n", n, b - a }'
}

same() {
  cmp -s "$out/local.json" "$out/$1.json" || { echo "FAIL: $1 rows differ from local"; diff "$out/local.json" "$out/$1.json" | head; exit 1; }
  diff <(sort "$out/local.jsonl") <(sort "$out/$1.jsonl") >/dev/null || { echo "FAIL: $1.jsonl differs from local.jsonl"; exit 1; }
}

submit() {
  SUBMIT_JAVA_OPTS="-Dtrnsim.home=$repo" scripts/spark-standalone.sh submit --master "$master" --class trnsim.cli.Main \
    "$jar" "${sweep[@]}" --engine spark "$@"
}

timed local ./trnsim "${sweep[@]}" --out "$out/local.jsonl"
timed submit submit --out "$out/submit.jsonl"
same submit
timed inprocess ./trnsim "${sweep[@]}" --engine spark --master "$master" --out "$out/inprocess.jsonl"
same inprocess
head -8 "$out/submit.jsonl" >"$out/resume.jsonl"
sed -n 9p "$out/submit.jsonl" | cut -c1-40 | tr -d '\n' >>"$out/resume.jsonl"
timed resume submit --out "$out/resume.jsonl"
same resume
[ "$(wc -l <"$out/resume.jsonl")" -eq 16 ] || { echo "FAIL: resume.jsonl has $(wc -l <"$out/resume.jsonl") lines, not 16"; exit 1; }
grep -q "dropped a partial last line" "$out/resume.err" || { echo "FAIL: the partial line was not reported"; exit 1; }
echo "spark cluster test OK: 16 points, rows identical to local (submitted, in-process driver, resumed)"
