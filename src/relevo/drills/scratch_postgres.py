"""A scratch PostgreSQL cluster for a drill: its own data folder and port, made with initdb and started
with pg_ctl, so that a database-restart drill really restarts a server, and never a shared one."""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import socket
import stat
import subprocess
from pathlib import Path

from relevo.errors import Conflict

SERVER_USER = "postgres"  # who runs the cluster when the drill runs as root (PostgreSQL refuses root)


def postgres_programs() -> Path:
    """The folder holding initdb and pg_ctl: pg_config's, else the newest of Debian's."""
    found: list[Path] = []
    if shutil.which("pg_config"):
        try:
            out = subprocess.run(["pg_config", "--bindir"], capture_output=True, text=True, timeout=10, check=True)
            found.append(Path(out.stdout.strip()))
        except (OSError, subprocess.SubprocessError):
            pass
    found += [Path(p) for p in sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)]
    for folder in found:
        if (folder / "initdb").is_file() and (folder / "pg_ctl").is_file():
            return folder
    raise Conflict("a PostgreSQL drill needs PostgreSQL's server programs (initdb, pg_ctl) on this machine, found "
                   "neither through pg_config --bindir nor in /usr/lib/postgresql/*/bin: install PostgreSQL's "
                   "server package, or run the drill on SQLite (--database sqlite)")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class ScratchPostgres:
    """A PostgreSQL cluster in folder, on a free port of 127.0.0.1, for one drill; `stop` removes nothing
    (the drill's temporary folder goes with it)."""

    def __init__(self, folder: Path) -> None:
        self.bindir = postgres_programs()
        self.data = folder / "pgdata"
        self.port = _free_port()
        self.prefix: list[str] = []
        if os.geteuid() == 0:  # initdb and postgres refuse to run as root
            try:
                user = pwd.getpwnam(SERVER_USER)
            except KeyError:
                raise Conflict(f"PostgreSQL refuses to run as root and there is no {SERVER_USER!r} user to run the "
                               "drill's scratch cluster: run the drill as another user") from None
            folder.mkdir(parents=True, exist_ok=True)
            os.chown(folder, user.pw_uid, user.pw_gid)
            # The drill's own temporary folder (0700) must let the server's user through to its data.
            os.chmod(folder.parent, stat.S_IMODE(folder.parent.stat().st_mode) | 0o011)
            self.prefix = ["runuser", "-u", SERVER_USER, "--"]
        self.url = f"postgresql+psycopg://{SERVER_USER}@127.0.0.1:{self.port}/postgres"
        self._run("initdb", "-D", str(self.data), "-U", SERVER_USER, "--auth=trust", "--no-sync",
                  "--no-instructions", "-E", "UTF8", timeout=120)
        self._pg_ctl("start", "-w")

    def _run(self, program: str, *args: str, timeout: float = 60) -> None:
        try:
            subprocess.run(self.prefix + [str(self.bindir / program), *args], capture_output=True, text=True,
                           timeout=timeout, check=True)
        except subprocess.CalledProcessError as exc:
            lines = (exc.stderr or exc.stdout or "").strip().splitlines()
            raise Conflict(f"the drill's scratch PostgreSQL failed at {program} {args[0] if args else ''}: "
                           f"{lines[-1] if lines else f'exit status {exc.returncode}'}") from None
        except (OSError, subprocess.TimeoutExpired) as exc:
            raise Conflict(f"the drill's scratch PostgreSQL failed at {program}: {exc}") from None

    def _pg_ctl(self, action: str, *args: str) -> None:
        # Only TCP on 127.0.0.1, its socket in its own folder: nothing of a shared server is touched.
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -c unix_socket_directories={self.data}"
        self._run("pg_ctl", action, "-D", str(self.data), "-o", options, "-l", str(self.data / "server.log"),
                  *args, timeout=120)

    def restart(self) -> None:
        """Restart the server as an operator would after a crash: every connection cut (fast shutdown), then up."""
        self._pg_ctl("restart", "-m", "fast", "-w")

    def stop(self) -> None:
        """Stop the server (immediately: nothing in it is kept)."""
        self._run("pg_ctl", "stop", "-D", str(self.data), "-m", "immediate", "-w", timeout=60)
