#!/usr/bin/env bash
# System packages clawgym uses: bubblewrap isolates episodes. Installed through apt-get when we are root;
# otherwise (or when apt-get fails) we say so and carry on: the subprocess sandbox backend still works.
quiet=0; [[ "${1:-}" == "--quiet" ]] && quiet=1
if command -v bwrap >/dev/null 2>&1; then
  [[ $quiet == 1 ]] || echo "==> bubblewrap: $(command -v bwrap)"
  exit 0
fi
if [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null 2>&1; then
  echo "==> installing bubblewrap through apt-get"
  if (apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq bubblewrap) >/tmp/clawgym-apt.log 2>&1; then
    echo "==> bubblewrap: $(command -v bwrap)"; exit 0
  fi
  echo "!! apt-get could not install bubblewrap (log: /tmp/clawgym-apt.log)."
else
  echo "!! bubblewrap (bwrap) is not installed and this is not a root Debian shell."
fi
echo "!! clawgym will fall back to the subprocess sandbox, which does NOT isolate episodes."
echo "!! Install it yourself for isolation: sudo apt-get install bubblewrap"
exit 0
