#!/bin/sh
# After the files are in place (deb postinst: configure; rpm %posttrans: 1|2): settings
# and state restored from the copy preinstall made, or seeded from the defaults, only
# where missing; ownership and modes; what 1.x left behind removed, its sudo rights
# included; the service enabled and (re)started.
set -e

case "$1" in
  configure | 1 | 2) ;;
  *) exit 0 ;;
esac

user=iofog-connector
etc=/etc/iofog-connector
logs=/var/log/iofog-connector
defaults=/usr/share/iofog-connector
keep=/var/lib/iofog-connector/upgrade

# What preinstall found: 1x, 2x or none; nothing at all when it did not run
# (dpkg-reconfigure, or a configure retried after a failure).
from=
[ ! -f "$keep/from" ] || from=$(cat "$keep/from")

# settle FILE OWNER MODE [DEFAULT]: a missing FILE comes back from the preinstall copy,
# else from DEFAULT, and gets OWNER and MODE. An existing file is the operator's and is
# left alone, unless it comes from 1.x, whose modes were 0774.
settle() {
  if [ ! -e "$etc/$1" ]; then
    if [ -f "$keep/$1" ]; then
      cp -p "$keep/$1" "$etc/$1"
    elif [ -n "${4:-}" ]; then
      cp "$4" "$etc/$1"
    else
      return 0
    fi
  elif [ "$from" != 1x ]; then
    return 0
  fi
  chown "$2" "$etc/$1"
  chmod "$3" "$etc/$1"
}

# 1.x made the same user with a login shell and sudo rights: take them away (here, after
# everything the old package runs).
if [ "$(getent passwd "$user" | cut -d: -f7)" != /usr/sbin/nologin ]; then
  usermod --shell /usr/sbin/nologin "$user" || true
fi
for group in sudo admin wheel root; do
  if id -nG "$user" 2>/dev/null | tr ' ' '\n' | grep -qx "$group"; then
    gpasswd -d "$user" "$group" >/dev/null 2>&1 || true
  fi
done
if [ -f /etc/sudoers ] && grep -qx "$user ALL=(ALL:ALL) ALL" /etc/sudoers; then
  tmp=$(mktemp /etc/sudoers.XXXXXX)
  grep -vx "$user ALL=(ALL:ALL) ALL" /etc/sudoers >"$tmp" || true
  chmod 0440 "$tmp"
  mv "$tmp" /etc/sudoers
fi

mkdir -p "$etc" "$logs"
# Also for an existing directory, whose owner and mode dpkg leaves as they were.
chown root:"$user" "$etc"
chmod 3770 "$etc"

settle iofog-connector.conf root:"$user" 0640 "$defaults/iofog-connector.conf"
settle configs.json "$user:$user" 0600 "$defaults/configs.json"
settle server-cert.pem root:"$user" 0644
settle server-key.pem root:"$user" 0640
# The daemon replaces the state file by rename, which the sticky directory allows only
# for its own files; it holds passcodes, so nobody else reads it.
if [ -f "$etc/configs.json" ]; then
  chown "$user:$user" "$etc/configs.json"
  chmod 0600 "$etc/configs.json"
fi

# 1.x wrote its logs as root. Only then: once the user owns the directory it could put
# links there, so files in it are never chowned by root later. The directory is root's
# alone while the files are handed over (1.x left it group-writable), and only plain
# files owned by root with one link each change hands, never what a link points to.
chown root:root "$logs"
chmod 0750 "$logs"
if [ "$from" = 1x ]; then
  for file in "$logs"/*; do
    if [ -f "$file" ] && [ ! -L "$file" ] && [ "$(stat -c '%u %h' "$file")" = "0 1" ]; then
      chown -h "$user:$user" "$file"
      chmod 0640 "$file"
    fi
  done
fi
chown "$user:$user" "$logs"
chmod 0750 "$logs"

# 1.x leftovers that nothing owns any more: rc links to the removed init script, the
# /usr/local/bin link, and /dev/random swapped for a link to /dev/urandom.
if [ "$from" = 1x ] && [ ! -e /etc/init.d/iofog-connector ]; then
  rm -f /etc/rc[0-6S].d/[SK][0-9][0-9]iofog-connector /etc/rc.d/rc[0-6].d/[SK][0-9][0-9]iofog-connector
  if [ -L /usr/local/bin/iofog-connector ] && [ "$(readlink /usr/local/bin/iofog-connector)" = /usr/bin/iofog-connector ]; then
    rm -f /usr/local/bin/iofog-connector
  fi
  if [ -L /dev/random ] && [ -c /dev/random.real ]; then
    { rm -f /dev/random && mv /dev/random.real /dev/random; } || true
  fi
fi

rm -rf "$keep"
rmdir /var/lib/iofog-connector 2>/dev/null || true

# First install, alone or over 1.x: enable and start. From 2.x, or without preinstall:
# the admin's enable/disable choice stands and a running service is restarted.
if [ -d /run/systemd/system ]; then
  systemctl daemon-reload || true
  if [ "$from" = none ] || [ "$from" = 1x ]; then
    systemctl enable iofog-connector.service || true
    systemctl restart iofog-connector.service ||
      echo "iofog-connector did not start; see: journalctl -u iofog-connector" >&2
  else
    systemctl try-restart iofog-connector.service ||
      echo "iofog-connector did not restart; see: journalctl -u iofog-connector" >&2
  fi
elif { [ "$from" = none ] || [ "$from" = 1x ]; } && command -v systemctl >/dev/null 2>&1; then
  # No systemd running (chroot, image build): enabled now, it starts on the first boot.
  systemctl enable iofog-connector.service >/dev/null 2>&1 || true
fi
exit 0
