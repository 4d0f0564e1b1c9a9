"""Start a headless ComfyUI server and talk to it over HTTP (standard library only).

Used by the integration tests (tests/integration/conftest.py) and the main job
(scripts/main_job.py). The server is the one scripts/host.py builds under .host/.
"""
from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import threading
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import host  # scripts/host.py: paths of the local host
from comfy_ws import WebSocket

SUMMARY_PREFIX = "[SVG] run summary: "
DENSE_PREFIX = "[SVG] dense: "


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def server_env() -> dict:
    """The environment for the server: ours, minus TRITON_INTERPRET, which tests/conftest.py sets
    for the test process (Triton's CPU interpreter) and a user's server never has."""
    env = dict(os.environ, PYTHONUNBUFFERED="1")
    env.pop("TRITON_INTERPRET", None)
    return env


class PromptFailed(RuntimeError):
    pass


class ComfyServer:
    """One ComfyUI server process; stdout+stderr go to `log_path`."""

    def __init__(self, log_path: Path, port: int | None = None, base: Path = host.BASE_DIR,
                 extra_args: list | None = None):
        self.port = port or free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.base = Path(base)
        self.log_path = Path(log_path)
        self.extra_args = list(extra_args or [])
        self.proc: subprocess.Popen | None = None
        self.client_id = uuid.uuid4().hex
        self.graphs: dict = {}          # prompt_id -> the API graph queued under it
        self._listeners: list = []      # (WebSocket, thread) of listen()

    # ------------------------------------------------------------ process
    def start(self, timeout: float = 180.0) -> "ComfyServer":
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        cmd = host.server_command(self.port, base=self.base, extra=self.extra_args)
        env = server_env()
        self._log_file = open(self.log_path, "ab")
        self.proc = subprocess.Popen(cmd, cwd=host.COMFY_DIR, stdout=self._log_file,
                                     stderr=subprocess.STDOUT, env=env, start_new_session=True)
        deadline = time.time() + timeout
        while time.time() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"ComfyUI exited with {self.proc.returncode} during start; "
                                   f"log tail:\n{self.log_tail()}")
            try:
                self.get("/object_info/KSampler", timeout=5)
                return self
            except (OSError, urllib.error.URLError):
                time.sleep(0.5)
        self.stop()
        raise RuntimeError(f"ComfyUI did not answer /object_info in {timeout}s; "
                           f"log tail:\n{self.log_tail()}")

    def stop(self, timeout: float = 20.0) -> None:
        if self.proc is None:
            return
        for ws, thread in self._listeners:
            ws.close()
            thread.join(timeout)
        self._listeners.clear()
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)  # the server's own process group
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout)
        self._log_file.close()
        self.proc = None

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()

    # ------------------------------------------------------------ log
    def log_size(self) -> int:
        return self.log_path.stat().st_size if self.log_path.exists() else 0

    def log_since(self, offset: int) -> str:
        with open(self.log_path, "rb") as f:
            f.seek(offset)
            return f.read().decode("utf-8", "replace")

    def log_tail(self, n: int = 60) -> str:
        if not self.log_path.exists():
            return ""
        return "\n".join(self.log_path.read_text("utf-8", "replace").splitlines()[-n:])

    # ------------------------------------------------------------ HTTP
    def request(self, method: str, path: str, body=None, timeout: float = 30.0):
        """Returns (status, parsed JSON or text); HTTP errors are returned, not raised."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(self.url + path, data=data, method=method,
                                     headers={"Content-Type": "application/json"})
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, raw = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, raw = e.code, e.read()
        try:
            return status, json.loads(raw)
        except ValueError:
            return status, raw.decode("utf-8", "replace")

    def get(self, path: str, timeout: float = 30.0):
        status, body = self.request("GET", path, timeout=timeout)
        if status != 200:
            raise RuntimeError(f"GET {path} -> {status}: {body}")
        return body

    def object_info(self, node_class: str | None = None) -> dict:
        if node_class:
            return self.get(f"/object_info/{node_class}")[node_class]
        return self.get("/object_info", timeout=120)

    def queue(self, prompt: dict):
        """POST /prompt; returns (status, body). The prompt id is ours (ComfyUI takes one in the
        body), so listen()'s events can name the graph from the very first one."""
        prompt_id = uuid.uuid4().hex
        self.graphs[prompt_id] = prompt
        status, body = self.request("POST", "/prompt", {"prompt": prompt, "client_id": self.client_id,
                                                        "prompt_id": prompt_id})
        if status != 200:
            self.graphs.pop(prompt_id)
        return status, body

    def listen(self, callback):
        """Call ``callback(event_type, data, graph)`` for each event of ComfyUI's websocket (/ws)
        for our client id (progress, executing, execution_success, ...), from a thread, until
        stop() or the returned function is called; ``graph`` is the API graph of the event's
        prompt (None when it has none)."""
        ws = WebSocket("127.0.0.1", self.port, f"/ws?clientId={self.client_id}")

        def pump():
            while True:
                try:
                    message = ws.recv()
                except OSError:        # closed by stop(), or the server went away
                    return
                if message is None:
                    return
                if isinstance(message, bytes):
                    continue           # preview images
                event = json.loads(message)
                data = event.get("data") or {}
                callback(event.get("type"), data, self.graphs.get(data.get("prompt_id")))

        thread = threading.Thread(target=pump, name="comfy-ws", daemon=True)
        thread.start()
        self._listeners.append((ws, thread))

        def unlisten():
            ws.close()
            thread.join(10)
            self._listeners.remove((ws, thread))
        return unlisten

    def wait(self, prompt_id: str, timeout: float = 600.0) -> dict:
        deadline = time.time() + timeout
        while time.time() < deadline:
            hist = self.get(f"/history/{prompt_id}")
            entry = hist.get(prompt_id)
            if entry and entry.get("status", {}).get("completed") is not None and \
                    entry["status"].get("status_str") in ("success", "error"):
                return entry
            if not self.alive():
                raise RuntimeError(f"server died while running {prompt_id}:\n{self.log_tail()}")
            time.sleep(0.2)
        raise TimeoutError(f"prompt {prompt_id} did not finish in {timeout}s")

    def run(self, prompt: dict, timeout: float = 600.0, summaries: int | None = None) -> "RunResult":
        """Queue one prompt, wait for it, and return its history entry and its slice of the log.

        Prompts are run one at a time, so the log written between queueing and completion
        belongs to this prompt. `summaries`: wait (briefly) until that many SVG run summaries
        are in the slice.
        """
        offset = self.log_size()
        t0 = time.time()
        status, body = self.queue(prompt)
        if status != 200:
            raise PromptFailed(f"POST /prompt -> {status}: {json.dumps(body, indent=1)}")
        entry = self.wait(body["prompt_id"], timeout)
        seconds = time.time() - t0
        log = self.log_since(offset)
        if summaries:
            end = time.time() + 5
            while len(parse_summaries(log)) < summaries and time.time() < end:
                time.sleep(0.1)
                log = self.log_since(offset)
        result = RunResult(body["prompt_id"], entry, log, seconds)
        if entry["status"]["status_str"] != "success":
            raise PromptFailed(f"prompt {result.prompt_id} failed: "
                               f"{json.dumps(entry['status'].get('messages'), indent=1)[:4000]}\n"
                               f"log:\n{log[-4000:]}")
        return result


class RunResult:
    def __init__(self, prompt_id: str, history: dict, log: str, seconds: float):
        self.prompt_id = prompt_id
        self.history = history
        self.log = log
        self.seconds = seconds

    @property
    def summaries(self) -> list:
        return parse_summaries(self.log)

    @property
    def dense_lines(self) -> list:
        return [ln for ln in self.log.splitlines() if DENSE_PREFIX in ln]

    def output_files(self, node_id: str | None = None) -> list:
        """(type, subfolder, filename) of the files the prompt's output nodes wrote."""
        found = []
        for nid, out in self.history.get("outputs", {}).items():
            if node_id is not None and str(nid) != str(node_id):
                continue
            for items in out.values():
                if not isinstance(items, list):
                    continue
                for it in items:
                    if isinstance(it, dict) and "filename" in it:
                        found.append((it.get("type", "output"), it.get("subfolder", ""),
                                      it["filename"]))
        return found


_SUMMARY_RE = re.compile(re.escape(SUMMARY_PREFIX) + r"(?P<text>.*?) \| (?P<json>\{.*\})\s*$")


def parse_summaries(log: str) -> list:
    """All `[SVG] run summary: <text> | {json}` lines of a log, as dicts (+ "_text", "_line")."""
    out = []
    for line in log.splitlines():
        if SUMMARY_PREFIX not in line:
            continue
        m = _SUMMARY_RE.search(line)
        if not m:
            raise ValueError(f"malformed SVG summary line: {line!r}")
        data = json.loads(m.group("json"))
        data["_text"] = m.group("text")
        data["_line"] = line[line.index(SUMMARY_PREFIX):]
        out.append(data)
    return out
