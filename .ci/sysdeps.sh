#!/usr/bin/env bash
# System packages clawgym uses: bubblewrap isolates episodes; chromium runs the real-browser tests (tests/test_browser.py).
# Installed through apt-get when we are root; otherwise (or when apt-get fails) we say so and carry on: the subprocess
# sandbox backend still works, and the browser tests skip with the reason.
quiet=0; [[ "${1:-}" == "--quiet" ]] && quiet=1
updated=0
apt_install() {  # apt_install PACKAGE...: install Debian packages as root (apt-get update once); fails when not root or offline
  [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1 || return 1
  if [[ $updated == 0 ]]; then apt-get update -qq >>/tmp/clawgym-apt.log 2>&1 || return 1; updated=1; fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$@" >>/tmp/clawgym-apt.log 2>&1
}

if command -v bwrap >/dev/null 2>&1; then
  [[ $quiet == 1 ]] || echo "==> bubblewrap: $(command -v bwrap)"
else
  echo "==> installing bubblewrap through apt-get"
  if apt_install bubblewrap; then
    echo "==> bubblewrap: $(command -v bwrap)"
  else
    echo "!! bubblewrap (bwrap) could not be installed: not a root Debian shell, or apt-get failed (log: /tmp/clawgym-apt.log)."
    echo "!! clawgym will fall back to the subprocess sandbox, which does NOT isolate episodes."
    echo "!! Install it yourself for isolation: sudo apt-get install bubblewrap"
  fi
fi

if [[ -x /usr/bin/chromium ]]; then
  [[ $quiet == 1 ]] || echo "==> chromium: /usr/bin/chromium"
else
  echo "==> installing chromium through apt-get (for the browser tests)"
  if apt_install --no-install-recommends chromium fonts-dejavu-core && [[ -x /usr/bin/chromium ]]; then
    echo "==> chromium: /usr/bin/chromium"
  else
    echo "!! chromium could not be installed: not a root Debian shell, or apt-get failed (log: /tmp/clawgym-apt.log)."
    echo "!! tests/test_browser.py will be skipped. Install it yourself to run them: sudo apt-get install chromium"
  fi
fi
exit 0
