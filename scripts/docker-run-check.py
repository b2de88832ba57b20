#!/usr/bin/env python3
"""Runs the command lines the Docker image runs, without a container engine.

A throwaway root is laid out like the image's final stage: the files its `COPY --from=build` lines install (taken
from the release build, as `make build` makes them), the host's /usr, /etc and /dev standing in for the base
image's, and config.yml mounted at /config/config.yml as the README documents. Each command is then run the way
`docker run` would: ENTRYPOINT + (the run's arguments, or CMD when there are none), chrooted into that root in a
private mount namespace, as the image's USER, from its WORKDIR, with its ENV PATH. The service must pass preflight
against a local Elasticsearch stand-in and then stop cleanly (exit 0) on SIGTERM.

Checked:
  1. `docker run IMAGE`                                           (no arguments: the image's CMD)
  2. `docker run IMAGE /app/bin/elastic-ingest -c /config/config.yml`  (Elastic's documented command line)
  3. `docker run IMAGE elastic-ingest --action list`              (the binary on the image's PATH)

Needs root (mount namespace, chroot), python3, and the release and stand-in binaries:
    scripts/docker-run-check.py [--target-dir DIR]
"""

import argparse
import json
import os
import shlex
import shutil
import signal
import subprocess
import sys
import tempfile
import threading
import time

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DOCUMENTED = ["/app/bin/elastic-ingest", "-c", "/config/config.yml"]
READY = "Preflight passed"
TIMEOUT = 60
# The base image's system directories, taken from the host.
SYSTEM_DIRS = ["usr", "etc"]


def fail(message):
    print(f"docker-run-check: {message}", file=sys.stderr)
    sys.exit(1)


def final_stage(dockerfile):
    """Instructions of the last stage, continuation lines joined, as (KEYWORD, rest) pairs."""
    lines, current = [], ""
    for raw in open(dockerfile, encoding="utf-8"):
        line = raw.rstrip("\n")
        if not current and (not line.strip() or line.lstrip().startswith("#")):
            continue
        if line.endswith("\\"):
            current += line[:-1] + " "
            continue
        lines.append(current + line)
        current = ""
    stage = []
    for line in lines:
        keyword, _, rest = line.strip().partition(" ")
        if keyword.upper() == "FROM":
            stage = []
        stage.append((keyword.upper(), rest.strip()))
    return stage


def exec_form(keyword, rest):
    try:
        value = json.loads(rest)
    except json.JSONDecodeError:
        fail(f"{keyword} must use the exec (JSON array) form so `docker run` arguments behave: {rest}")
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        fail(f"{keyword} is not a JSON array of strings: {rest}")
    return value


def image_spec(dockerfile):
    spec = {"entrypoint": [], "cmd": [], "user": "0", "workdir": "/", "path": None, "copies": []}
    for keyword, rest in final_stage(dockerfile):
        if keyword == "ENTRYPOINT":
            spec["entrypoint"] = exec_form(keyword, rest)
        elif keyword == "CMD":
            spec["cmd"] = exec_form(keyword, rest)
        elif keyword == "USER":
            spec["user"] = rest
        elif keyword == "WORKDIR":
            spec["workdir"] = rest
        elif keyword == "ENV":
            for part in shlex.split(rest):
                name, _, value = part.partition("=")
                if name == "PATH":
                    spec["path"] = value.replace("${PATH}", "/usr/local/bin:/usr/bin:/bin").replace(
                        "$PATH", "/usr/local/bin:/usr/bin:/bin")
        elif keyword == "COPY" and rest.startswith("--from=build"):
            parts = rest.split()[1:]
            spec["copies"].append((parts[:-1], parts[-1]))
    if not spec["user"].isdigit():
        fail(f"USER must be numeric (got {spec['user']!r}): the image has no passwd entry to resolve a name")
    return spec


def lay_out_root(spec, target_dir, config_text):
    root = tempfile.mkdtemp(prefix="docker-run-check-")
    os.chmod(root, 0o755)
    for sources, dest in spec["copies"]:
        for source in sources:
            prefix = "/src/target/"
            if not source.startswith(prefix):
                fail(f"COPY --from=build source outside the build's target dir: {source}")
            built = os.path.join(target_dir, source[len(prefix):])
            if not os.path.isfile(built):
                fail(f"{built} is missing: run `make build` first")
            where = root + (dest if dest.endswith("/") else os.path.dirname(dest) + "/")
            os.makedirs(where, exist_ok=True)
            shutil.copy2(built, os.path.join(where, os.path.basename(source)) if dest.endswith("/") else root + dest)
    # Files the image copies under /usr or /etc must show through the host's directories mounted there: keep
    # them as a layer that is overlaid on the host's directory (see docker_run).
    for system in SYSTEM_DIRS:
        copied = os.path.join(root, system)
        if os.path.isdir(copied):
            os.makedirs(os.path.join(root, ".layers"), exist_ok=True)
            os.rename(copied, os.path.join(root, ".layers", system))
    for mountpoint in ["usr", "etc", "dev", "proc", "tmp", "config", spec["workdir"].lstrip("/")]:
        os.makedirs(os.path.join(root, mountpoint), exist_ok=True)
    os.chmod(os.path.join(root, "tmp"), 0o1777)
    for link in ["bin", "lib", "lib64", "sbin"]:
        if os.path.islink("/" + link) and not os.path.exists(os.path.join(root, link)):
            os.symlink(os.readlink("/" + link), os.path.join(root, link))
    config_dir = tempfile.mkdtemp(prefix="docker-run-check-config-")
    os.chmod(config_dir, 0o755)
    with open(os.path.join(config_dir, "config.yml"), "w", encoding="utf-8") as f:
        f.write(config_text)
    os.chmod(os.path.join(config_dir, "config.yml"), 0o644)
    return root, config_dir


def docker_run(spec, root, config_dir, run_args):
    """`docker run [-v config:/config] IMAGE [run_args]`, as a process started in its own session."""
    argv = spec["entrypoint"] + (run_args if run_args else spec["cmd"])
    if not argv:
        fail("the image has neither ENTRYPOINT nor CMD")
    steps = []
    for system in SYSTEM_DIRS:
        layer = os.path.join(root, ".layers", system)
        target = shlex.quote(f"{root}/{system}")
        if os.path.isdir(layer):
            steps.append(f"mount -t overlay overlay -o lowerdir={shlex.quote(layer)}:/{system} {target}")
        else:
            steps.append(f"mount --bind /{system} {target}")
    for src, dst in [("/dev", "/dev"), ("/proc", "/proc"), (config_dir, "/config")]:
        steps.append(f"mount --bind {shlex.quote(src)} {shlex.quote(root + dst)}")
    mounts = " && ".join(steps)
    user = spec["user"]
    env = ["env", "-i", f"PATH={spec['path'] or '/usr/local/bin:/usr/bin:/bin'}", "HOME=/tmp"]
    inner = " ".join(shlex.quote(a) for a in env + ["sh", "-c", 'cd "$0" && exec "$@"', spec["workdir"]] + argv)
    script = f"{mounts} && exec chroot --userspec={user}:{user} {shlex.quote(root)} {inner}"
    return argv, subprocess.Popen(["unshare", "--mount", "--propagation", "private", "--fork", "sh", "-c", script],
                                  stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                  start_new_session=True)


def children(pid):
    out = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/stat", encoding="utf-8") as f:
                    fields = f.read().rsplit(")", 1)[1].split()
                if int(fields[1]) == pid:
                    out.append(int(entry))
            except (OSError, IndexError, ValueError):
                pass
    return out


def service_process(unshare_pid):
    """The service: unshare's child (sh exec'd chroot, which exec'd the command)."""
    found = children(unshare_pid)
    return found[0] if found else None


def collect(proc):
    """Reads the process's output in the background; returns the list it appends lines to."""
    lines = []
    threading.Thread(target=lambda: lines.extend(iter(proc.stdout.readline, "")), daemon=True).start()
    return lines


def check_service(spec, root, config_dir, run_args, label):
    argv, proc = docker_run(spec, root, config_dir, run_args)
    lines, deadline = collect(proc), time.time() + TIMEOUT
    while not any(READY in line for line in lines):
        if proc.poll() is not None:
            time.sleep(0.2)
            fail(f"{label}: `{' '.join(argv)}` exited {proc.returncode} before starting:\n{''.join(lines)[-2000:]}")
        if time.time() > deadline:
            os.killpg(proc.pid, signal.SIGKILL)
            fail(f"{label}: `{' '.join(argv)}` did not pass preflight within {TIMEOUT} s:\n{''.join(lines)[-2000:]}")
        time.sleep(0.1)
    service = service_process(proc.pid)
    if service is None:
        fail(f"{label}: cannot find the service process under unshare")
    os.kill(service, signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        fail(f"{label}: did not stop within 30 s of SIGTERM")
    time.sleep(0.2)
    output = "".join(lines)
    if proc.returncode != 0:
        fail(f"{label}: exit code {proc.returncode} after SIGTERM:\n{output[-2000:]}")
    if "\x1b[" in output:
        fail(f"{label}: log written to a pipe carries ANSI escape codes")
    print(f"docker-run-check: {label}: `{' '.join(argv)}` passed preflight and stopped cleanly")


def check_list(spec, root, config_dir):
    argv, proc = docker_run(spec, root, config_dir, ["elastic-ingest", "--action", "list"])
    out, _ = proc.communicate(timeout=TIMEOUT)
    if proc.returncode != 0 or "microsoft_teams" not in out:
        fail(f"`{' '.join(argv)}` failed ({proc.returncode}):\n{out[-2000:]}")
    print(f"docker-run-check: `{' '.join(argv)}` found the binary on the image's PATH")


def start_standin(target_dir):
    binary = os.path.join(target_dir, "debug", "es-standin")
    if not os.path.isfile(binary):
        fail(f"{binary} is missing: run `cargo build -p ftest --bins` first")
    proc = subprocess.Popen([binary, "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
    line = proc.stdout.readline()
    try:
        return proc, json.loads(line)["url"]
    except (json.JSONDecodeError, KeyError):
        proc.kill()
        fail(f"the stand-in did not start: {line!r}")


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--target-dir", default=os.environ.get("CARGO_TARGET_DIR", os.path.join(ROOT, "target")))
    parser.add_argument("--dockerfile", default=os.path.join(ROOT, "docker", "Dockerfile"))
    args = parser.parse_args()
    if os.geteuid() != 0:
        fail("needs root (a private mount namespace and chroot)")
    spec = image_spec(args.dockerfile)
    standin, url = start_standin(os.path.abspath(args.target_dir))
    config = (f"elasticsearch:\n  host: {url}\n  username: elastic\n  password: changeme\n"
              "service:\n  idling: 1\nconnectors:\n  - connector_id: docker-run-check\n"
              "    service_type: microsoft_teams\n")
    root, config_dir = lay_out_root(spec, os.path.abspath(args.target_dir), config)
    try:
        check_service(spec, root, config_dir, [], "no arguments (the image's CMD)")
        check_service(spec, root, config_dir, DOCUMENTED, "Elastic's documented command")
        check_list(spec, root, config_dir)
    finally:
        standin.terminate()
        standin.wait(timeout=30)
        shutil.rmtree(root, ignore_errors=True)
        shutil.rmtree(config_dir, ignore_errors=True)


if __name__ == "__main__":
    main()
