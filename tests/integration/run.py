#!/usr/bin/env python3
# SPDX-License-Identifier: MIT
# Runs integration scenarios: all in one boot of the emulated test host, or directly on a hardware-KVM machine.
"""Integration test runner for vmm.

Modes of use (see docs/testing.md):
  run.py --build-dir B --scenario NAME   one meson test: shares one test-host
                                         batch per `meson test` run, prints
                                         NAME's output, exits with its verdict
  run.py --build-dir B --batch [NAME..]  run scenarios now and print a summary
  run.py --build-dir B --script FILE     run any script in the same environment
                                         (bench/boot.sh, demos); streams its
                                         output and exits with its status
  run.py --build-dir B --images-only     just build the guest/test-host images

--arch arm64 runs the scenarios whose "# arch:" header names arm64 in the
emulated arm64 test host (tests/host-arm64), with a static arm64 vmm that
the runner cross-builds itself (cross/aarch64-linux-gnu.ini); a scenario with
no such header is x86_64's only.
"""

import argparse
import fcntl
import hashlib
import json
import os
import re
import shutil
import signal
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
TESTS = os.path.dirname(HERE)
SCENARIOS = os.path.join(HERE, "scenarios")
GUEST_BUILD = os.path.join(TESTS, "guest", "build.sh")
HOST_BUILD = os.path.join(TESTS, "host", "build.sh")
HOST_ARM64_BUILD = os.path.join(TESTS, "host-arm64", "build.sh")
SOURCE = os.path.dirname(TESTS)
# Files the "# needs: rootfs" scenarios use besides lib.sh, copied into the
# test host's job/. docs/ci-runner.md also says how the rootfs is built.
CI_FILES = [os.path.join(SOURCE, "scripts", "workspace.sh"), os.path.join(SOURCE, "docs", "ci-runner.md")]

DEFAULT_SCENARIO_TIMEOUT = 120
ARM64_TIMEOUT_FACTOR = 2
# How long past a scenario's own limit (enforced inside the test host) the
# runner waits before it calls the test host frozen.
STALL_GRACE = int(os.environ.get("VMM_ITEST_STALL_GRACE", "60"))
# Whole batch, on top of the per-scenario limits' sum: test-host boot, disk
# creation, power-off. The batch is also capped so meson's timeout (1800 s)
# is never reached first.
HOST_BOOT_ALLOWANCE = 180
BATCH_CAP = 1500
MARK = "@@vmm-itest "
# What the test host's kernel prints when it has wedged itself: nested KVM
# under TCG has been seen to spin a vCPU thread inside KVM_RUN with timer
# interrupts pending, never rescheduling, and every later scenario then timed
# out in it too. A userspace process (vmm) cannot do that to a kernel.
HOST_LOCKUP = re.compile(r"watchdog: BUG: soft lockup|rcu: INFO: rcu_\w+ (self-)?detected stall")


def log(msg):
    print(f"itest: {msg}", flush=True)


# ---------------------------------------------------------------- scenarios


def scenario_header(path, key):
    """The value of a '# KEY: VALUE' line among a scenario's first 20 lines, or None."""
    with open(path, encoding="utf-8", errors="replace") as f:
        for _, line in zip(range(20), f):
            m = re.match(r"#\s*" + key + r":\s*(.*\S)", line)
            if m:
                return m.group(1)
    return None


def scenario_needs_rootfs(path):
    """A scenario that boots the Debian rootfs says so with '# needs: rootfs'."""
    return "rootfs" in (scenario_header(path, "needs") or "").split()


def scenario_names(arch="x86_64"):
    """The scenarios for arch: those whose '# arch:' header names it (none: x86_64 only)."""
    return sorted(f[:-3] for f in os.listdir(SCENARIOS) if f.endswith(".sh") and
                  arch in (scenario_header(os.path.join(SCENARIOS, f), "arch") or "x86_64").split())


def scenario_timeout(path, arch="x86_64"):
    """A scenario may ask for more time with a '# timeout: N' header line (on arm64, '# timeout-arm64: N')."""
    if arch == "arm64":
        t = scenario_header(path, "timeout-arm64")
        if t and t.isdigit():
            return int(t)
        # A guest boot in the arm64 test host (TCG emulating EL2, then nested KVM) takes longer.
        return ARM64_TIMEOUT_FACTOR * scenario_timeout(path)
    t = scenario_header(path, "timeout")
    return int(t) if t and t.isdigit() else DEFAULT_SCENARIO_TIMEOUT


# ---------------------------------------------------------------- environment


def hardware_kvm():
    """True when /dev/kvm is a real (VMX/SVM) KVM we can use directly."""
    if os.path.exists("/sys/module/kvm_pvm"):
        return False
    if not (os.path.exists("/sys/module/kvm_intel") or os.path.exists("/sys/module/kvm_amd")):
        return False
    return os.access("/dev/kvm", os.R_OK | os.W_OK)


def pick_mode(requested, arch="x86_64"):
    mode = requested or os.environ.get("VMM_ITEST_MODE", "auto")
    if mode == "auto":
        # arm64 scenarios run in the emulated arm64 test host (there is no arm64 direct mode yet).
        mode = "direct" if arch == "x86_64" and hardware_kvm() else "testhost"
    return mode


class Paths:
    def __init__(self, build_dir, vmm, arch="x86_64"):
        self.arch = arch
        self.build = os.path.abspath(build_dir)
        self.work = os.path.join(self.build, "tests", "integration", "itest" if arch == "x86_64" else "itest-" + arch)
        # build/guest: where docs and config/*.ini expect the test guest image.
        self.guest = os.path.join(self.build, "guest")
        # build/rootfs: scripts/make-rootfs.sh's output, as docs/ci-runner.md builds it.
        self.rootfs = os.path.join(self.build, "rootfs")
        self.host = os.path.join(self.work, "host")
        if arch == "arm64":
            # tests/host-arm64/build.sh makes host/ and guest/ under one directory; the arm64 vmm
            # is cross-built in cross/.
            self.images = os.path.join(self.work, "images")
            self.guest = os.path.join(self.images, "guest")
            self.host = os.path.join(self.images, "host")
            # scripts/test.sh shares its own cross build (build-arm64) through VMM_ITEST_ARM64_BUILD.
            self.cross = os.path.abspath(os.environ.get("VMM_ITEST_ARM64_BUILD") or os.path.join(self.work, "cross"))
            vmm = os.path.join(self.cross, "src", "vmm", "vmm")
        self.batch = os.path.join(self.work, "batch")
        self.run = os.path.join(self.work, "run")
        vmm = vmm or os.path.join(self.build, "src", "vmm", "vmm")
        # meson passes the executable relative to the build directory.
        if not os.path.isabs(vmm) and not os.path.exists(vmm):
            vmm = os.path.join(self.build, vmm)
        self.vmm = os.path.abspath(vmm)


def sh_need_pkg(pkg):
    """Install a Debian package through the same helper the image builds use."""
    subprocess.run(["sh", "-c", f'. "{TESTS}/guest/debian.sh"; need_pkg "$1"', "need_pkg", pkg],
                   check=True, stdout=sys.stderr)


def arm64_missing():
    """Why the arm64 scenarios cannot run on this machine, or None."""
    for prog, pkg in (("qemu-system-aarch64", "qemu-system-arm"), ("aarch64-linux-gnu-gcc", "gcc-aarch64-linux-gnu")):
        if not shutil.which(prog):
            return f"{prog} is missing (scripts/deps.sh --arm64 installs {pkg})"
    return None


def build_arm64(p, with_qemu):
    """Cross-build the static arm64 vmm (incremental) and the arm64 test host and guest images (and QEMU)."""
    t0 = time.time()
    if not os.path.exists(os.path.join(p.cross, "build.ninja")):
        subprocess.run(["meson", "setup", p.cross, SOURCE, "--cross-file",
                        os.path.join(SOURCE, "cross", "aarch64-linux-gnu.ini")], check=True, stdout=sys.stderr)
    subprocess.run(["meson", "compile", "-C", p.cross, "vmm"], check=True, stdout=sys.stderr)
    env = dict(os.environ, ITEST_APT_CACHE=os.path.join(p.work, "apt-answers"))
    subprocess.run(["sh", HOST_ARM64_BUILD, p.images] + (["--with-qemu"] if with_qemu else []), check=True,
                   stdout=sys.stderr, env=env)
    log(f"arm64 vmm and images ready in {time.time() - t0:.1f}s")


def build_images(p, with_fio, with_qemu=False, rootfs=False):
    if p.arch == "arm64":
        build_arm64(p, with_qemu)
        return
    t0 = time.time()
    env = dict(os.environ, ITEST_DEB_CACHE=os.path.join(p.work, "debs"),
               ITEST_APT_CACHE=os.path.join(p.work, "apt-answers"))
    cmd = ["sh", GUEST_BUILD, p.guest] + (["--with-fio"] if with_fio else [])
    subprocess.run(cmd, check=True, stdout=sys.stderr, env=env)
    subprocess.run(["sh", HOST_BUILD, p.host], check=True, stdout=sys.stderr, env=env)
    if rootfs:
        build_rootfs(p)
    log(f"images ready in {time.time() - t0:.1f}s")


def build_rootfs(p):
    """BUILD/rootfs, the Debian rootfs that the "# needs: rootfs" scenarios
    boot, made by the golden-image command of docs/ci-runner.md as written
    (its ci-runner-doc scenario runs the rest of that page). It runs in a
    directory laid out like the checkout's top, whose build/ is this build
    directory; make-rootfs.sh's own cache makes a second run cost nothing."""
    with open(CI_FILES[1], encoding="utf-8") as f:
        m = re.search(r"^```sh golden-image\n(.*?)^```", f.read(), re.M | re.S)
    if not m:
        raise SystemExit("itest: docs/ci-runner.md has no ```sh golden-image block")
    if not shutil.which("mmdebstrap"):
        sh_need_pkg("mmdebstrap")
    top = os.path.join(p.work, "doc-top")
    shutil.rmtree(top, ignore_errors=True)
    os.makedirs(top)
    for name, target in (("scripts", os.path.join(SOURCE, "scripts")), ("guest", os.path.join(SOURCE, "guest")),
                         ("build", p.build)):
        os.symlink(target, os.path.join(top, name))
    log("golden image: " + m.group(1).strip())
    # A failed build (no network to the archive, say) fails the scenarios
    # that need the rootfs, each saying so, and not every other one with them.
    if subprocess.run(["sh", "-ec", m.group(1)], cwd=top, stdout=sys.stderr).returncode != 0:
        log("the rootfs build failed: the scenarios that need it will fail")


def base_env(p, mode):
    env = dict(os.environ)
    env.update({
        "VMM": p.vmm,
        "GUEST_VMLINUX": os.path.join(p.guest, "vmlinux"),
        "GUEST_BZIMAGE": os.path.join(p.guest, "vmlinuz"),
        "GUEST_INITRD": os.path.join(p.guest, "initrd.img"),
        "GUEST_INITRD_FIO": os.path.join(p.guest, "initrd-fio.img")
        if os.path.exists(os.path.join(p.guest, "initrd-fio.img")) else "",
        "ITEST_LIB": os.path.join(HERE, "lib.sh"),
        "CONFIG_DIR": os.path.join(os.path.dirname(TESTS), "config"),
        "ITEST_MODE": mode,
        "QEMU": shutil.which("qemu-system-x86_64") or "",
        "HOST_BLOCK_STAT": "",
        "ROOTFS_DIR": p.rootfs if os.path.exists(os.path.join(p.rootfs, "stamp")) else "",
        "WORKSPACE_SH": CI_FILES[0],
        "CI_RUNNER_DOC": CI_FILES[1],
    })
    return env


def block_stat_for(path):
    """The stat file of the block device under path (noisy: shared with
    everything else on that disk), or '' when it has none."""
    try:
        dev = os.stat(path).st_dev
        f = f"/sys/dev/block/{os.major(dev)}:{os.minor(dev)}/stat"
        return f if os.path.exists(f) else ""
    except OSError:
        return ""


# ---------------------------------------------------------------- direct mode


def run_direct(p, items, extra_env, stream):
    """Run scenarios on this machine's hardware KVM, one after another."""
    results = {}
    for name, path, tmo in items:
        scratch = os.path.join(p.work, "scratch", name)
        shutil.rmtree(scratch, ignore_errors=True)
        os.makedirs(scratch)
        env = base_env(p, "direct")
        env["SCRATCH"] = scratch
        env["HOST_BLOCK_STAT"] = os.environ.get("VMM_ITEST_HOST_BLOCK_STAT", block_stat_for(scratch))
        env.update(extra_env)
        log(f"running {name} directly (timeout {tmo}s)")
        t0 = time.time()
        # Own session, so a timeout kills vmm and anything else it started.
        proc = subprocess.Popen(["/bin/sh", path], cwd=scratch, env=env, start_new_session=True,
                                stdout=subprocess.PIPE, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL)
        out = []
        timed_out = False
        deadline = t0 + tmo
        os.set_blocking(proc.stdout.fileno(), False)
        while True:
            chunk = proc.stdout.read()
            if chunk:
                text = chunk.decode(errors="replace")
                out.append(text)
                if stream:
                    sys.stdout.write(text)
                    sys.stdout.flush()
            if proc.poll() is not None and not chunk:
                break
            if time.time() > deadline and not timed_out:
                timed_out = True
                os.killpg(proc.pid, signal.SIGTERM)
                try:
                    proc.wait(3)
                except subprocess.TimeoutExpired:
                    os.killpg(proc.pid, signal.SIGKILL)
            time.sleep(0.05)
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
        text = "".join(out)
        if timed_out:
            text += f"\nitest: scenario {name} killed after {tmo}s\n"
        # A signal shows as 128+N, as a shell (and the test host) reports it.
        st = proc.returncode if proc.returncode >= 0 else 128 - proc.returncode
        results[name] = {"status": st, "seconds": round(time.time() - t0, 2),
                         "timeout": timed_out, "output": text}
    return results


# ---------------------------------------------------------------- test host


def qemu_command_arm64(p, run_dir):
    return [
        "qemu-system-aarch64",
        # EL2 for the test host's KVM (VHE), and a GICv3 for vmm's vgic.
        "-M", "virt,virtualization=on,gic-version=3", "-cpu", "max", "-accel", "tcg",
        "-m", "2048", "-smp", os.environ.get("VMM_ITEST_HOST_CPUS", "1"),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        "-kernel", os.path.join(p.host, "Image"),
        "-initrd", os.path.join(p.host, "initrd.img"),
        "-append", "console=ttyAMA0 panic=-1 quiet",
        "-serial", "file:" + os.path.join(run_dir, "console.log"),
        # The virt machine has one UART: the results go to a virtconsole, the test host's /dev/hvc0.
        "-device", "virtio-serial-pci",
        "-chardev", "file,id=results,path=" + os.path.join(run_dir, "results.log"),
        "-device", "virtconsole,chardev=results",
        "-drive", "file=" + os.path.join(run_dir, "disk.img") + ",if=none,id=disk,format=raw,cache=unsafe",
        "-device", "virtio-blk-pci,drive=disk",
    ]


def qemu_command(p, run_dir):
    if p.arch == "arm64":
        return qemu_command_arm64(p, run_dir)
    return [
        "qemu-system-x86_64",
        "-machine", "q35", "-accel", "tcg",
        # An AMD CPU with SVM and nested paging: the test host's kvm_amd
        # then loads with nested virtualization and nested paging enabled,
        # which gives vmm hardware-style KVM.
        "-cpu", "EPYC,+svm,+npt", "-m", "3072",
        # One CPU: with two, guests with two vCPUs crashed or hung, under
        # QEMU as under vmm, and took the test host down (docs/testing.md).
        "-smp", os.environ.get("VMM_ITEST_HOST_CPUS", "1"),
        "-nodefaults", "-no-user-config", "-display", "none", "-no-reboot",
        # The ELF vmlinux boots through PVH and skips the in-kernel
        # decompression; VMM_ITEST_HOST_KERNEL=vmlinuz uses the bzImage.
        "-kernel", os.path.join(p.host, os.environ.get("VMM_ITEST_HOST_KERNEL", "vmlinux")),
        "-initrd", os.path.join(p.host, "initrd.img"),
        "-append", "console=ttyS0 panic=-1 mitigations=off",
        "-serial", "file:" + os.path.join(run_dir, "console.log"),
        "-serial", "file:" + os.path.join(run_dir, "results.log"),
        # cache=unsafe still shows the test host a write cache (so its flush
        # counters move) while QEMU ignores the flushes: the disk is scratch.
        "-drive", "file=" + os.path.join(run_dir, "disk.img") + ",if=none,id=disk,format=raw,cache=unsafe",
        "-device", "virtio-blk-pci,drive=disk",
    ]


def tail(path, n=40):
    try:
        with open(path, errors="replace") as f:
            lines = f.read().replace("\r", "").splitlines()
        return "\n".join(lines[-n:])
    except OSError:
        return "(no console log)"


def run_testhost(p, items, extra_env, stream, with_qemu, keep=False):
    """Run every item in the emulated test host, restarting it if it freezes.

    A frozen test host (nested KVM under TCG has been seen to stop dead, with
    no console output, so that even its own per-scenario watchdog never
    fires, or to report a soft lockup of its own kernel and time out every
    scenario after) is not a verdict on vmm: the scenarios it had not finished get one
    more run in a freshly booted test host. A scenario whose test host freezes
    both times fails, with both accounts."""
    results = run_testhost_once(p, items, extra_env, stream, with_qemu, keep)
    again = [it for it in items if results[it[0]].get("frozen") or
             (results[it[0]].get("harness") and any(r.get("frozen") for r in results.values()))]
    if not again:
        return results
    log(f"the test host froze; running {len(again)} unfinished scenario(s) again in a fresh test host: "
        + " ".join(n for n, _, _ in again))
    retry = run_testhost_once(p, again, extra_env, stream, with_qemu, keep)
    for name, _, _ in again:
        r = retry[name]
        if r.get("harness"):
            r["output"] = results[name]["output"] + "\nitest: second test host:\n" + r["output"]
        else:
            r["output"] = f"itest: (run again after the first test host froze)\n{r['output']}"
        results[name] = r
    return results


def run_testhost_once(p, items, extra_env, stream, with_qemu, keep=False):
    """Boot the emulated test host once and run every item inside it."""
    if p.arch == "x86_64" and not shutil.which("qemu-system-x86_64"):
        sh_need_pkg("qemu-system-x86")
    # One test host per build dir at a time: the run dir and its disk image
    # are shared, so a second runner (a --batch while meson test runs) waits.
    lock = open(os.path.join(p.work, "testhost.lock"), "w")
    t_wait = time.time()
    fcntl.flock(lock, fcntl.LOCK_EX)
    if time.time() - t_wait > 1:
        log(f"waited {time.time() - t_wait:.0f}s for another test-host run in this build dir")
    run_dir = p.run
    shutil.rmtree(run_dir, ignore_errors=True)
    job = os.path.join(run_dir, "job")
    os.makedirs(os.path.join(job, "scenarios"))
    with open(os.path.join(job, "list"), "w") as f:
        for name, path, tmo in items:
            shutil.copy(path, os.path.join(job, "scenarios", name + ".sh"))
            f.write(f"{name} {tmo}\n")
    shutil.copy(os.path.join(HERE, "lib.sh"), os.path.join(job, "lib.sh"))
    for f in CI_FILES:
        shutil.copy(f, os.path.join(job, os.path.basename(f)))
    # The shipped example INI files, for the scenarios that boot them as they are.
    shutil.copytree(os.path.join(os.path.dirname(TESTS), "config"), os.path.join(job, "config"))
    with open(os.path.join(job, "env"), "w") as f:
        for k, v in extra_env.items():
            f.write(f"export {k}='{v}'\n")

    t0 = time.time()
    env = dict(os.environ, ITEST_APT_CACHE=os.path.join(p.work, "apt-answers"))
    if p.arch == "arm64":
        cmd = ["sh", HOST_ARM64_BUILD, p.images, "--disk", os.path.join(run_dir, "disk.img"), "--vmm", p.vmm,
               "--job", job] + (["--with-qemu"] if with_qemu else [])
    else:
        cmd = ["sh", HOST_BUILD, p.host, "--disk", os.path.join(run_dir, "disk.img"), "--vmm", p.vmm,
               "--guest", p.guest, "--job", job] + (["--with-qemu"] if with_qemu else [])
        if any(scenario_needs_rootfs(path) for _, path, _ in items) and os.path.exists(os.path.join(p.rootfs, "stamp")):
            # The rootfs (about 0.9 GB of its 4 GB are used) and the scenarios'
            # sparse copies of it need room on the test host's sparse disk.
            cmd += ["--rootfs", p.rootfs, "--size", "8G"]
    subprocess.run(cmd, check=True, stdout=sys.stderr, env=env)
    log(f"test-host disk ready in {time.time() - t0:.1f}s")

    console = os.path.join(run_dir, "console.log")
    results_log = os.path.join(run_dir, "results.log")
    budget = min(BATCH_CAP, HOST_BOOT_ALLOWANCE + sum(t + 5 for _, _, t in items))
    log(f"booting the test host for {len(items)} scenario(s), batch limit {budget}s; "
        f"console: {console}")
    qemu_log = open(os.path.join(run_dir, "qemu.log"), "w")
    t_boot = time.time()
    proc = subprocess.Popen(qemu_command(p, run_dir), stdout=qemu_log, stderr=subprocess.STDOUT,
                            stdin=subprocess.DEVNULL)
    results = {}
    state = {"cur": None, "buf": [], "host_up": None, "done": False, "t_cur": None}
    pos = 0
    partial = ""
    cpos = 0
    killed = False
    frozen = None
    lockup = None
    tmo_of = {name: tmo for name, _, tmo in items}

    def handle(line):
        if line.startswith(MARK):
            words = line[len(MARK):].split()
            what = words[0] if words else ""
            if what == "host-up":
                state["host_up"] = time.time() - t_boot
                log(f"test host up after {state['host_up']:.1f}s ({' '.join(words[1:])})")
            elif what == "begin" and len(words) > 1:
                state["cur"], state["buf"], state["t_cur"] = words[1], [], time.time()
                log(f"[{words[1]}] started")
            elif what == "end" and len(words) > 1:
                kv = dict(w.split("=", 1) for w in words[2:] if "=" in w)
                name = words[1]
                st = int(kv.get("status", "1"))
                results[name] = {"status": st, "seconds": float(kv.get("seconds", "0")),
                                 "timeout": "timeout" in words, "output": "".join(state["buf"])}
                verdict = {0: "pass", 77: "skip"}.get(st, f"FAIL (status {st})")
                log(f"[{name}] {verdict} in {kv.get('seconds', '?')}s")
                state["cur"] = None
            elif what == "done":
                state["done"] = True
            elif what == "fatal":
                log("test host: " + " ".join(words[1:]))
            return
        if state["cur"] is not None:
            state["buf"].append(line + "\n")
            if stream:
                print(line, flush=True)

    while True:
        finished = proc.poll() is not None
        try:
            with open(results_log, "rb") as f:
                f.seek(pos)
                data = f.read()
                pos += len(data)
        except OSError:
            data = b""
        if data:
            text = partial + data.decode(errors="replace").replace("\r", "")
            lines = text.split("\n")
            partial = lines.pop()
            for line in lines:
                handle(line)
        if finished:
            if partial:
                handle(partial)
            break
        cur = state["cur"]
        cdata = b""
        try:
            # Only while a scenario runs: a lockup reported between two is
            # read, and charged to the next one, once it has begun.
            if cur is not None:
                with open(console, "rb") as f:
                    f.seek(cpos)
                    cdata = f.read()
        except OSError:
            pass
        if cdata:
            # Whole lines only; the rest is read again next time.
            cut = cdata.rfind(b"\n") + 1
            cpos += cut
            m = HOST_LOCKUP.search(cdata[:cut].decode(errors="replace"))
            if m:
                log(f"[{cur}] the test host's kernel locked up ({m.group(0)}): stopping it")
                proc.kill()
                proc.wait()
                frozen, lockup = cur, m.group(0)
                break
        if cur is not None and time.time() - state["t_cur"] > tmo_of[cur] + STALL_GRACE:
            # The host's own watchdog ends a scenario at tmo; silence past
            # that means the test host itself has stopped.
            log(f"[{cur}] still running {STALL_GRACE}s past its {tmo_of[cur]}s limit: the test host froze")
            proc.kill()
            proc.wait()
            frozen = cur
            break
        if time.time() - t_boot > budget:
            log(f"batch limit of {budget}s reached: stopping the test host")
            proc.kill()
            proc.wait()
            killed = True
            break
        time.sleep(0.2)
    qemu_log.close()
    total = time.time() - t_boot
    log(f"test host ran {total:.1f}s (qemu status {proc.returncode})")

    ctail = tail(console)
    qtail = tail(os.path.join(run_dir, "qemu.log"), 10)
    if qtail.strip():
        ctail += "\nitest: QEMU said:\n" + qtail
    for name, _, _ in items:
        if name in results:
            continue
        if state["host_up"] is None:
            why = "the test host did not boot"
        elif frozen == name and lockup:
            why = f"the test host's kernel locked up during this scenario ({lockup})"
        elif frozen == name:
            why = "the test host froze during this scenario (no output, its own watchdog never fired)"
        elif state["cur"] == name:
            why = "the test host stopped during this scenario" + (" (batch limit)" if killed else "")
        else:
            why = "not run: the test host stopped before it" + (" (batch limit)" if killed else "")
        out = "".join(state["buf"]) if state["cur"] == name else ""
        results[name] = {"status": 1, "seconds": 0, "timeout": killed, "harness": True,
                         "frozen": frozen == name, "output":
                         f"{out}\nitest: {why}; test host console (last lines):\n{ctail}\n"}
    for r in results.values():
        r["host_boot_s"] = round(state["host_up"], 2) if state["host_up"] else None
    if not keep:
        try:
            os.unlink(os.path.join(run_dir, "disk.img"))
        except OSError:
            pass
    return results


def run_items(p, mode, items, extra_env, stream, with_qemu, keep=False):
    if mode == "direct":
        return run_direct(p, items, extra_env, stream)
    return run_testhost(p, items, extra_env, stream, with_qemu, keep)


# ---------------------------------------------------------------- meson mode


def session_id():
    """Identifies one `meson test` run: every scenario test of that run is a
    child of the same meson process. Overridable with VMM_ITEST_SESSION."""
    s = os.environ.get("VMM_ITEST_SESSION")
    if s:
        return "env:" + s
    ppid = os.getppid()
    try:
        with open(f"/proc/{ppid}/stat") as f:
            start = f.read().rsplit(")", 1)[1].split()[19]
    except (OSError, IndexError):
        start = "?"
    return f"ppid:{ppid}:{start}:{os.environ.get('MESON_TEST_ITERATION', '')}"


def inputs_digest(p, with_qemu):
    """Everything a batch result depends on, as present now. Images are not
    rebuilt to compute this; their stamps (which change with every rebuild)
    stand for them."""
    h = hashlib.sha256()

    def add_file(path):
        h.update(path.encode() + b"\0")
        try:
            with open(path, "rb") as f:
                for block in iter(lambda: f.read(1 << 20), b""):
                    h.update(block)
        except OSError:
            h.update(b"<missing>")

    add_file(p.vmm)
    for d in (SCENARIOS, os.path.join(os.path.dirname(TESTS), "config")):
        for f in sorted(os.listdir(d)):
            add_file(os.path.join(d, f))
    for f in ("lib.sh", "run.py"):
        add_file(os.path.join(HERE, f))
    if p.arch == "arm64":
        for f in ("build.sh", "init", "guest-init"):
            add_file(os.path.join(TESTS, "host-arm64", f))
        add_file(os.path.join(p.images, "stamp"))
    else:
        for f in ("build.sh", "init"):
            add_file(os.path.join(TESTS, "host", f))
        add_file(os.path.join(p.guest, "stamp"))
        add_file(os.path.join(p.guest, "fio-stamp"))
        add_file(os.path.join(p.host, "stamp"))
    for f in ("build.sh", "init", "debian.sh"):
        add_file(os.path.join(TESTS, "guest", f))
    for f in CI_FILES:
        add_file(f)
    add_file(os.path.join(p.rootfs, "stamp"))
    h.update(f"qemu={with_qemu}".encode())
    return h.hexdigest()


def meson_scenario(p, name, mode, with_qemu):
    path = os.path.join(SCENARIOS, name + ".sh")
    if not os.path.exists(path):
        print(f"itest: no scenario {name} in {SCENARIOS}")
        return 1
    if p.arch == "arm64" and arm64_missing():
        print(f"itest: skipped: {arm64_missing()}")
        return 77
    if mode == "direct":
        # Real KVM: no batch to share; run just this scenario.
        build_images(p, False, rootfs=scenario_needs_rootfs(path))
        r = run_direct(p, [(name, path, scenario_timeout(path))], {}, stream=True)[name]
        return verdict(name, r, printed=True)

    os.makedirs(p.batch, exist_ok=True)
    lock = open(os.path.join(p.work, "batch.lock"), "w")
    t_wait = time.time()
    fcntl.flock(lock, fcntl.LOCK_EX)
    if time.time() - t_wait > 1:
        log(f"waited {time.time() - t_wait:.0f}s for the shared test-host batch")
    key = session_id() + "\n" + inputs_digest(p, with_qemu)
    key_file = os.path.join(p.batch, "key")
    res_file = os.path.join(p.batch, "results.json")
    fresh = False
    try:
        with open(key_file) as f:
            fresh = f.read() == key and os.path.exists(res_file)
    except OSError:
        pass
    if fresh:
        log("using this meson test run's batch results")
    else:
        try:
            os.unlink(key_file)
        except OSError:
            pass
        build_images(p, False, rootfs=any(scenario_needs_rootfs(os.path.join(SCENARIOS, n + ".sh"))
                                          for n in scenario_names(p.arch)))
        # Rebuilt images change the digest: take it again after building.
        key = session_id() + "\n" + inputs_digest(p, with_qemu)
        items = [(n, os.path.join(SCENARIOS, n + ".sh"),
                  scenario_timeout(os.path.join(SCENARIOS, n + ".sh"), p.arch))
                 for n in scenario_names(p.arch)]
        results = run_testhost(p, items, {}, stream=False, with_qemu=with_qemu)
        with open(res_file + ".tmp", "w") as f:
            json.dump(results, f)
        os.replace(res_file + ".tmp", res_file)
        # The key is written last: a crash in between leaves the batch stale.
        with open(key_file, "w") as f:
            f.write(key)
    with open(res_file) as f:
        results = json.load(f)
    fcntl.flock(lock, fcntl.LOCK_UN)
    if name not in results:
        print(f"itest: {name} is not in the batch results")
        return 1
    return verdict(name, results[name])


def verdict(name, r, printed=False):
    if not printed:
        sys.stdout.write(r["output"])
    st = r["status"]
    extra = " (killed at the scenario time limit)" if r.get("timeout") else ""
    print(f"itest: {name}: status {st} in {r['seconds']}s{extra}")
    if st == 0:
        return 0
    if st == 77:
        return 77
    return 1


# ---------------------------------------------------------------- main


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--build-dir", required=True, help="meson build directory")
    ap.add_argument("--vmm", help="vmm binary (default BUILD/src/vmm/vmm)")
    g = ap.add_mutually_exclusive_group(required=True)
    g.add_argument("--scenario", help="meson-test mode for one scenario")
    g.add_argument("--batch", nargs="*", metavar="NAME", help="run these (default: all) scenarios now")
    g.add_argument("--script", help="run this script like a scenario and exit with its status")
    g.add_argument("--images-only", action="store_true", help="only build the images")
    g.add_argument("--list", action="store_true", help="list the scenarios")
    ap.add_argument("--timeout", type=int, help="time limit for --script (seconds)")
    ap.add_argument("--env", action="append", default=[], metavar="K=V", help="extra environment for scenarios")
    ap.add_argument("--mode", choices=["auto", "testhost", "direct"], help="default: $VMM_ITEST_MODE or auto")
    ap.add_argument("--with-fio", action="store_true", help="also build the guest initrd with fio")
    ap.add_argument("--with-qemu", action="store_true", help="put qemu-system-x86_64 into the test host")
    ap.add_argument("--keep", action="store_true", help="keep the test-host disk image afterwards")
    ap.add_argument("--arch", choices=["x86_64", "arm64"], default="x86_64",
                    help="the guests' architecture (arm64: the emulated arm64 test host)")
    a = ap.parse_args()

    if a.list:
        print("\n".join(scenario_names(a.arch)))
        return 0
    p = Paths(a.build_dir, a.vmm, a.arch)
    os.makedirs(p.work, exist_ok=True)
    mode = pick_mode(a.mode, a.arch)
    # The QEMU check scenario is a harness canary; see docs/testing.md.
    # On arm64 only when asked for (bench/boot-arm64.sh): its QEMU is 50 packages to unpack.
    with_qemu = a.with_qemu or (a.arch == "x86_64" and os.environ.get("VMM_ITEST_WITH_QEMU", "1") == "1")

    if a.images_only:
        build_images(p, a.with_fio)
        return 0
    if a.scenario:
        return meson_scenario(p, a.scenario, mode, with_qemu)

    extra_env = {}
    for kv in a.env:
        k, _, v = kv.partition("=")
        if not re.match(r"^[A-Za-z_][A-Za-z0-9_]*$", k) or "'" in v:
            print(f"itest: bad --env {kv!r}", file=sys.stderr)
            return 2
        extra_env[k] = v

    if a.script:
        path = os.path.abspath(a.script)
        name = re.sub(r"[^A-Za-z0-9_.-]", "_", os.path.basename(path))
        name = name[:-3] if name.endswith(".sh") else name
        build_images(p, a.with_fio, with_qemu, scenario_needs_rootfs(path))
        log(f"mode {mode}")
        tmo = a.timeout or scenario_timeout(path, p.arch)
        r = run_items(p, mode, [(name, path, tmo)], extra_env, True, with_qemu, a.keep)[name]
        if r.get("harness"):
            # The harness's own account (host did not boot...) was not streamed.
            sys.stdout.write(r["output"])
        print(f"itest: {name}: status {r['status']} in {r['seconds']}s")
        return r["status"] if 0 <= r["status"] < 256 else 1

    names = a.batch or scenario_names(p.arch)
    items = []
    for n in names:
        path = os.path.join(SCENARIOS, n + ".sh")
        if not os.path.exists(path):
            print(f"itest: no scenario {n}", file=sys.stderr)
            return 2
        items.append((n, path, scenario_timeout(path, p.arch)))
    build_images(p, a.with_fio, rootfs=any(scenario_needs_rootfs(path) for _, path, _ in items))
    log(f"mode {mode}")
    results = run_items(p, mode, items, extra_env, True, with_qemu, a.keep)
    for n in names:
        if results[n].get("harness"):
            # Not streamed: the harness's own account of why NAME did not run.
            print(f"--- {n} ---\n{results[n]['output']}")
    npass = nfail = nskip = 0
    for n in names:
        st = results[n]["status"]
        if st == 0:
            npass += 1
        elif st == 77:
            nskip += 1
        else:
            nfail += 1
        print(f"  {n:24s} {'pass' if st == 0 else 'skip' if st == 77 else 'FAIL %d' % st:8s} {results[n]['seconds']}s")
    print(f"{npass} passed, {nfail} failed, {nskip} skipped")
    return 1 if nfail else 0


if __name__ == "__main__":
    sys.exit(main())
