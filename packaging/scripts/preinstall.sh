#!/bin/sh
# Before unpacking (deb: install|upgrade, rpm: 1|2): the system user, the 1.x Java
# Connector stopped, and the files under /etc/iofog-connector copied aside, because
# dpkg and rpm delete the ones the 1.x package shipped once the new files are in place.
set -e

case "$1" in
  install | upgrade | 1 | 2) ;;
  *) exit 0 ;;
esac

user=iofog-connector
etc=/etc/iofog-connector
keep=/var/lib/iofog-connector/upgrade

# Before unpack, so that dpkg and rpm can give the log directory to the user.
getent group "$user" >/dev/null || groupadd --system "$user"
if ! getent passwd "$user" >/dev/null; then
  useradd --system --gid "$user" --no-create-home --home-dir /nonexistent \
    --shell /usr/sbin/nologin --comment "ioFog Connector" "$user"
fi

# What is being upgraded decides what postinstall does: "1x" (the Java package: take its
# files over, enable the new service), "2x" (keep the admin's choices), "none".
from=none
if [ -e /etc/init.d/iofog-connector ] || [ -e /usr/bin/iofog-connectord.jar ]; then
  from=1x
elif [ -f /usr/bin/iofog-connector ] && [ "$(head -c 4 /usr/bin/iofog-connector | tr -d '\177')" = ELF ]; then
  from=2x
fi

# The 1.x daemon runs as root from an init script, keeps running through the 1.x
# prerm and holds the same ports. Its own "stop" needs sudo and a second JVM that
# calls the API, so it is stopped by signal: the JVM exits on SIGTERM.
java_pids() {
  for dir in /proc/[0-9]*; do
    [ -r "$dir/cmdline" ] || continue
    if tr '\0' ' ' <"$dir/cmdline" 2>/dev/null | grep -q -e '-jar .*iofog-connectord\.jar'; then
      echo "${dir#/proc/}"
    fi
  done
}
if [ "$from" = 1x ]; then
  if [ -d /run/systemd/system ]; then
    timeout 30 systemctl stop iofog-connector.service >/dev/null 2>&1 || true
  fi
  pids=$(java_pids)
  if [ -n "$pids" ]; then
    echo "Stopping the 1.x Connector (pid $(echo "$pids" | tr '\n' ' '))..."
    # shellcheck disable=SC2086 # one argument per pid
    kill -TERM $pids 2>/dev/null || true
    tries=0
    while [ -n "$(java_pids)" ] && [ "$tries" -lt 20 ]; do
      sleep 0.5
      tries=$((tries + 1))
    done
    pids=$(java_pids)
    # shellcheck disable=SC2086
    [ -z "$pids" ] || kill -KILL $pids 2>/dev/null || true
  fi
fi

# Copied after the daemon stopped, so the state file is the last one it wrote.
rm -rf "$keep"
mkdir -p "$keep"
chmod 0700 "$keep"
echo "$from" >"$keep/from"
for file in iofog-connector.conf configs.json server-cert.pem server-key.pem; do
  if [ -f "$etc/$file" ]; then
    cp -p "$etc/$file" "$keep/$file"
  fi
done
exit 0
