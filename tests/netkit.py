"""Hosts on one machine: a network namespace per host, each with a veth into one bridge (a private LAN).

Everything this module creates is named after a per-run prefix (`lq` + 6 hex digits): the
namespaces `<prefix>-<host>`, the bridge `<prefix>br`, the veth ends `<prefix>v<n>` (on the
bridge) and `eth0` (inside the host). The LAN is 10.231.N.0/24 with N free on this machine;
the bridge itself is .254, so this process reaches every host as an operator would.
`teardown` ends the processes started here, kills what is left inside our namespaces and
removes our namespaces and links, and nothing else. Needs root and iproute2.

Faults: `cut`/`mend` set the host's bridge-side veth down/up (its packets are dropped,
its connections stay open, as with a pulled cable); `shape` puts `tc netem` delay and loss
on both ends of its link.
"""
from __future__ import annotations

import os
import random
import secrets
import shutil
import signal
import subprocess
from dataclasses import dataclass, field
from pathlib import Path
from typing import Sequence

BASE = "10.231"


class NetError(RuntimeError):
    """An `ip`/`tc` command failed (its stderr is the message)."""


def sh(*argv: str, check: bool = True) -> subprocess.CompletedProcess:
    done = subprocess.run(argv, capture_output=True, text=True, timeout=30)
    if check and done.returncode != 0:
        raise NetError(f"{' '.join(argv)}: {done.stderr.strip() or done.returncode}")
    return done


def why_unavailable() -> str | None:
    """None when this process can build namespaces, else the reason."""
    if os.geteuid() != 0:
        return "needs root (ip netns add)"
    if shutil.which("ip") is None:
        return "needs iproute2 (ip)"
    probe = f"lq{secrets.token_hex(3)}-probe"
    done = sh("ip", "netns", "add", probe, check=False)
    if done.returncode != 0:
        return f"ip netns add fails here: {done.stderr.strip()}"
    sh("ip", "netns", "del", probe, check=False)
    return None


def netem_unavailable() -> str | None:
    """None when `tc netem` works inside a namespace of ours, else the reason."""
    if shutil.which("tc") is None:
        return "tc (iproute2) is not installed"
    probe = f"lq{secrets.token_hex(3)}-netem"
    sh("ip", "netns", "add", probe)
    try:
        sh("ip", "-n", probe, "link", "set", "lo", "up")
        done = sh("ip", "netns", "exec", probe, "tc", "qdisc", "add", "dev", "lo", "root", "netem", "delay", "1ms",
                  check=False)
        return None if done.returncode == 0 else f"the kernel offers no netem qdisc ({done.stderr.strip()})"
    finally:
        sh("ip", "netns", "del", probe, check=False)


def _free_subnet() -> str:
    """10.231.N with N used by no address or route on this machine."""
    used = sh("ip", "-4", "-o", "addr").stdout + sh("ip", "-4", "route").stdout
    free = [n for n in range(1, 255) if f"{BASE}.{n}." not in used]
    if not free:
        raise NetError(f"no free /24 inside {BASE}.0.0/16")
    return f"{BASE}.{random.choice(free)}"


@dataclass
class Host:
    """One namespace: its name, address and bridge-side veth; the processes started in it."""

    name: str
    netns: str
    ip: str
    veth: str
    procs: list[subprocess.Popen] = field(default_factory=list)

    def start(self, argv: Sequence[str], log: Path, env: dict[str, str] | None = None,
              cwd: Path | None = None) -> subprocess.Popen:
        """Run `argv` inside this host (its own process group), output appended to `log`."""
        with log.open("ab") as out:
            proc = subprocess.Popen(["ip", "netns", "exec", self.netns, *argv], env=env, stdout=out,
                                    stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL, start_new_session=True, cwd=cwd)
        self.procs.append(proc)
        return proc

    def exec(self, *argv: str, check: bool = True) -> subprocess.CompletedProcess:
        return sh("ip", "netns", "exec", self.netns, *argv, check=check)

    def stop(self, proc: subprocess.Popen, sig: int = signal.SIGTERM, timeout_s: float = 15.0) -> int | None:
        """Signal `proc`'s group; SIGKILL it after `timeout_s`; return its exit code."""
        _killpg(proc.pid, sig)
        try:
            proc.wait(timeout_s)
        except subprocess.TimeoutExpired:
            _killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)
        _killpg(proc.pid, signal.SIGKILL)  # whatever of the group outlived its leader
        if proc in self.procs:
            self.procs.remove(proc)
        return proc.returncode


class Network:
    """A bridge and the hosts on it (see the module docstring)."""

    def __init__(self) -> None:
        self.prefix = f"lq{secrets.token_hex(3)}"
        self.bridge = f"{self.prefix}br"
        self.subnet = _free_subnet()
        self.hosts: dict[str, Host] = {}
        self.gateway = f"{self.subnet}.254"
        sh("ip", "link", "add", "name", self.bridge, "type", "bridge", "forward_delay", "0")
        sh("ip", "addr", "add", f"{self.gateway}/24", "dev", self.bridge)
        sh("ip", "link", "set", self.bridge, "up")

    def add(self, name: str) -> Host:
        """A new host `name` at the next address, up."""
        number = len(self.hosts) + 1
        host = Host(name, f"{self.prefix}-{name}", f"{self.subnet}.{number}", f"{self.prefix}v{number}")
        peer = f"{self.prefix}p{number}"
        self.hosts[name] = host
        sh("ip", "netns", "add", host.netns)
        sh("ip", "link", "add", host.veth, "type", "veth", "peer", "name", peer)
        sh("ip", "link", "set", peer, "netns", host.netns)
        sh("ip", "-n", host.netns, "link", "set", peer, "name", "eth0")
        sh("ip", "-n", host.netns, "addr", "add", f"{host.ip}/24", "dev", "eth0")
        sh("ip", "-n", host.netns, "link", "set", "lo", "up")
        sh("ip", "-n", host.netns, "link", "set", "eth0", "up")
        sh("ip", "link", "set", host.veth, "master", self.bridge)
        sh("ip", "link", "set", host.veth, "up")
        return host

    def cut(self, host: Host) -> None:
        """Pull the host's cable: every packet to or from it is dropped; its processes keep running."""
        sh("ip", "link", "set", host.veth, "down")

    def mend(self, host: Host) -> None:
        sh("ip", "link", "set", host.veth, "up")

    def shape(self, host: Host, delay_ms: int, jitter_ms: int, loss_pct: float) -> None:
        """netem delay (± jitter) and loss on both directions of the host's link."""
        spec = ["netem", "delay", f"{delay_ms}ms", f"{jitter_ms}ms", "loss", f"{loss_pct}%"]
        sh("tc", "qdisc", "replace", "dev", host.veth, "root", *spec)
        host.exec("tc", "qdisc", "replace", "dev", "eth0", "root", *spec)

    def unshape(self, host: Host) -> None:
        sh("tc", "qdisc", "del", "dev", host.veth, "root", check=False)
        host.exec("tc", "qdisc", "del", "dev", "eth0", "root", check=False)

    def teardown(self) -> None:
        """Stop every process started here, then remove our namespaces and links (also after a failed test)."""
        for host in self.hosts.values():
            for proc in list(host.procs):
                host.stop(proc, signal.SIGTERM, 10)
        for host in self.hosts.values():
            pids = sh("ip", "netns", "pids", host.netns, check=False).stdout.split()
            for pid in pids:  # strays inside a namespace of ours (e.g. a child that left its group)
                try:
                    os.kill(int(pid), signal.SIGKILL)
                except (ProcessLookupError, ValueError):
                    pass
            sh("ip", "netns", "del", host.netns, check=False)
            sh("ip", "link", "del", host.veth, check=False)  # normally gone with its peer
        sh("ip", "link", "del", self.bridge, check=False)

    def leftovers(self) -> list[str]:
        """Our namespaces and links still present (empty after `teardown`)."""
        names = sh("ip", "netns", "list").stdout + sh("ip", "-o", "link").stdout
        return sorted({word.split("@")[0].rstrip(":") for word in names.split() if word.startswith(self.prefix)})


def _killpg(pgid: int, sig: int) -> None:
    try:
        os.killpg(pgid, sig)
    except ProcessLookupError:
        pass
