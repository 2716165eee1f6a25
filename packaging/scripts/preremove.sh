#!/bin/sh
# Before the files go (deb prerm: remove|upgrade|..., rpm %preun: 0 erase, 1 upgrade):
# on removal the service is stopped and disabled; an upgrade restarts it afterwards.
set -e

case "$1" in
  remove | 0) ;;
  *) exit 0 ;;
esac

if [ -d /run/systemd/system ]; then
  systemctl stop iofog-connector.service || true
  systemctl disable iofog-connector.service || true
elif command -v systemctl >/dev/null 2>&1; then
  systemctl disable iofog-connector.service >/dev/null 2>&1 || true
fi
exit 0
