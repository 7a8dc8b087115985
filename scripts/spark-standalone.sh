#!/usr/bin/env bash
# A loopback Spark standalone cluster for trying the Spark engine without one: a master and one
# worker on 127.0.0.1, run from the jars of a plain Spark 4.0 installation that Maven resolves
# (scripts/spark-cluster/pom.xml; nothing else is downloaded). Also a spark-submit for it.
#
#   scripts/spark-standalone.sh start      master spark://127.0.0.1:7077 + a worker (2 cores, 2 GiB)
#   scripts/spark-standalone.sh status
#   scripts/spark-standalone.sh submit ARGS...   spark-submit ARGS (client mode) on that class path
#   scripts/spark-standalone.sh stop
#
# Environment: SPARK_PORT (7077), SPARK_WORKER_CORES (2), SPARK_WORKER_MEMORY (2g).
# State (a SPARK_HOME of symlinks, logs, pids, the worker's folder) lives in target/spark-standalone.
set -euo pipefail
repo="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
state="$repo/target/spark-standalone"
home="$state/spark-home"
port="${SPARK_PORT:-7077}"
master_url="spark://127.0.0.1:$port"

# Spark 4 on Java 17 needs these opens (a Spark distribution's launcher adds the same list).
opens=(-XX:+IgnoreUnrecognizedVMOptions)
for p in java.lang java.lang.invoke java.lang.reflect java.io java.net java.nio java.util java.util.concurrent \
    java.util.concurrent.atomic jdk.internal.ref sun.nio.ch sun.nio.cs sun.security.action sun.util.calendar; do
  opens+=("--add-opens=java.base/$p=ALL-UNNAMED")
done
opens+=(-Djdk.reflect.useDirectMethodHandle=false -Dio.netty.tryReflectionSetAccessible=true)

# A SPARK_HOME laid out as a distribution's: jars/ (symlinks into the local Maven repository) and
# conf/ (log4j2 at WARN). The worker launches executors from SPARK_HOME/jars.
layout() {
  if [ -f "$home/.complete" ] && [ "$home/.complete" -nt "$repo/scripts/spark-cluster/pom.xml" ]; then
    return
  fi
  rm -rf "$home"
  mkdir -p "$home/jars" "$home/conf"
  (cd "$repo/scripts/spark-cluster" && mvn -q -B dependency:build-classpath -Dmdep.outputFile="$state/classpath.txt") >&2
  tr ':' '\n' <"$state/classpath.txt" | while read -r jar; do
    [ -n "$jar" ] && ln -sf "$jar" "$home/jars/$(basename "$jar")"
  done
  cat >"$home/conf/log4j2.properties" <<'PROPS'
rootLogger.level = ${sys:trnsim.log.level:-warn}
rootLogger.appenderRef.stderr.ref = console
appender.console.type = Console
appender.console.name = console
appender.console.target = SYSTEM_ERR
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = %d{HH:mm:ss} %p %c{1}: %m%n
logger.utils.name = org.apache.spark.util.Utils
logger.utils.level = error
logger.hadoop.name = org.apache.hadoop.util.NativeCodeLoader
logger.hadoop.level = error
PROPS
  touch "$home/.complete"
}

# exec: run in the background as "spark_java ... &", the JVM itself is $! (so stop can kill it).
spark_java() {
  SPARK_HOME="$home" SPARK_SCALA_VERSION=2.13 SPARK_CONF_DIR="$home/conf" SPARK_LOCAL_IP=127.0.0.1 \
    exec java "${opens[@]}" ${SPARK_DAEMON_JAVA_OPTS:-} -cp "$home/conf:$home/jars/*" "$@"
}

running() {
  [ -f "$state/$1.pid" ] && kill -0 "$(cat "$state/$1.pid")" 2>/dev/null
}

wait_for() {
  local what="$1" pattern="$2" log="$3"
  for _ in $(seq 1 60); do
    if grep -q "$pattern" "$log" 2>/dev/null; then
      return 0
    fi
    if ! running "$what"; then
      echo "spark-standalone: the $what exited; see $log" >&2
      tail -20 "$log" >&2
      return 1
    fi
    sleep 1
  done
  echo "spark-standalone: the $what did not come up in 60 s; see $log" >&2
  return 1
}

start() {
  mkdir -p "$state/work"
  layout
  if running master; then
    echo "spark-standalone: already running at $master_url"
    return
  fi
  # INFO for the daemons' own logs, so start-up can be seen; executors stay at WARN.
  SPARK_DAEMON_JAVA_OPTS="-Xmx512m -Dtrnsim.log.level=info" spark_java org.apache.spark.deploy.master.Master \
    --host 127.0.0.1 --port "$port" --webui-port 0 >"$state/master.log" 2>&1 &
  echo $! >"$state/master.pid"
  wait_for master "Starting Spark master\|I have been elected leader" "$state/master.log"
  SPARK_DAEMON_JAVA_OPTS="-Xmx512m -Dtrnsim.log.level=info" spark_java org.apache.spark.deploy.worker.Worker "$master_url" \
    --host 127.0.0.1 --webui-port 0 --cores "${SPARK_WORKER_CORES:-2}" --memory "${SPARK_WORKER_MEMORY:-2g}" \
    --work-dir "$state/work" >"$state/worker.log" 2>&1 &
  echo $! >"$state/worker.pid"
  # Up once the master has registered it.
  wait_for worker "Registering worker" "$state/master.log"
  echo "spark-standalone: master $master_url with one worker (${SPARK_WORKER_CORES:-2} cores); logs in $state"
}

stop() {
  for d in worker master; do
    if running "$d"; then
      kill "$(cat "$state/$d.pid")"
      for _ in $(seq 1 20); do
        running "$d" || break
        sleep 0.5
      done
    fi
    rm -f "$state/$d.pid"
  done
  echo "spark-standalone: stopped"
}

case "${1:-}" in
  start) start ;;
  stop) stop ;;
  status)
    if running master && running worker; then echo "running at $master_url"; else echo "not running"; exit 1; fi ;;
  submit)
    shift
    layout
    (spark_java ${SUBMIT_JAVA_OPTS:-} org.apache.spark.deploy.SparkSubmit "$@") ;;
  *)
    echo "usage: scripts/spark-standalone.sh start|status|submit ARGS...|stop" >&2
    exit 2 ;;
esac
