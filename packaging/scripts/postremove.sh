#!/bin/sh
# After the files are gone (deb postrm: remove|purge|upgrade|..., rpm %postun: 0|1).
# Remove keeps the settings, state, certificate, key, logs and the user; only a deb
# purge deletes them (rpm has no purge: they stay until the admin deletes them).
set -e

user=iofog-connector

case "$1" in
  remove | 0)
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload || true
    fi
    ;;
  purge)
    rm -rf /etc/iofog-connector /var/log/iofog-connector /var/lib/iofog-connector
    # Links an offline "systemctl enable" made, when systemd was not there to remove them.
    rm -f /etc/systemd/system/multi-user.target.wants/iofog-connector.service
    if getent passwd "$user" >/dev/null; then
      userdel "$user" >/dev/null 2>&1 || echo "Could not delete the user $user." >&2
    fi
    if getent group "$user" >/dev/null; then
      groupdel "$user" >/dev/null 2>&1 || echo "Could not delete the group $user." >&2
    fi
    if [ -d /run/systemd/system ]; then
      systemctl daemon-reload || true
    fi
    ;;
esac
exit 0
