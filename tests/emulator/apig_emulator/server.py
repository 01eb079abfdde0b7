"""Serving the emulator: the Werkzeug server and the command line.

With a certificate and key (`--tls-cert`, `--tls-key`) it serves HTTPS too, on a second port, from the
same state: the plain HTTP port stays for the control API and for clients that need no TLS.
"""

from __future__ import annotations

import argparse
import os
import signal
import tempfile
import threading
from pathlib import Path

import yaml
from werkzeug.serving import BaseWSGIServer, WSGIRequestHandler, make_server

from .app import EmulatorApp
from .faults import FaultInjector
from .state import EmulatorState


class CloudRequestHandler(WSGIRequestHandler):
    """Answers with the gateway's Server header; logs requests only when asked (the request log is
    available through the control API anyway)."""

    verbose = False

    def version_string(self) -> str:
        return "api-gateway"

    def log_request(self, code="-", size="-") -> None:
        if self.verbose:
            super().log_request(code, size)


def load_yaml(path: str | Path) -> dict:
    with open(path, encoding="utf-8") as handle:
        return yaml.safe_load(handle) or {}


def create_server(state: EmulatorState, faults: FaultInjector | None = None, host: str = "127.0.0.1",
                  port: int = 0, verbose: bool = False, app: EmulatorApp | None = None,
                  tls: tuple[str, str] | None = None) -> BaseWSGIServer:
    """A threaded server; `app` shares another server's application (and so its state, faults and log),
    `tls` = (certificate file, key file) makes it serve HTTPS."""
    app = app or EmulatorApp(state, faults)
    handler = type("RequestHandler", (CloudRequestHandler,), {"verbose": verbose})
    ssl_context = (str(tls[0]), str(tls[1])) if tls else None
    return make_server(host, port, app, threaded=True, request_handler=handler, ssl_context=ssl_context)


def write_port_file(path: str, port: int) -> None:
    """Write atomically, so a reader polling for the file never sees it half-written."""
    directory = os.path.dirname(os.path.abspath(path))
    fd, tmp = tempfile.mkstemp(dir=directory, prefix=".port-")
    with os.fdopen(fd, "w") as handle:
        handle.write(f"{port}\n")
    os.replace(tmp, path)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="apig_emulator",
                                     description="Offline emulator of Huawei Cloud APIG / ROMA Connect APIC and IAM.")
    parser.add_argument("--data", required=True, help="seed data file (YAML)")
    parser.add_argument("--port", type=int, default=0, help="port to listen on; 0 picks a free one")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port-file", help="write the port to this file once listening")
    parser.add_argument("--faults", help="fault configuration file (YAML or JSON)")
    parser.add_argument("--seed", type=int, help="seed for fault decisions (overrides the file's seed)")
    parser.add_argument("--task-seconds", type=float, default=1.0,
                        help="time an async export task takes from waiting to succeed (default 1.0)")
    parser.add_argument("--verbose", action="store_true", help="log every request to stderr")
    parser.add_argument("--tls-cert", help="PEM certificate (chain) for HTTPS, served on a second port")
    parser.add_argument("--tls-key", help="PEM private key of --tls-cert")
    parser.add_argument("--tls-port", type=int, default=0, help="HTTPS port; 0 picks a free one")
    parser.add_argument("--tls-port-file", help="write the HTTPS port to this file once listening")
    args = parser.parse_args(argv)
    if bool(args.tls_cert) != bool(args.tls_key):
        parser.error("--tls-cert and --tls-key go together")
    if args.tls_port_file and not args.tls_cert:
        parser.error("--tls-port-file needs --tls-cert and --tls-key")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    state = EmulatorState(load_yaml(args.data), task_seconds=args.task_seconds)
    fault_config = load_yaml(args.faults) if args.faults else {}
    if isinstance(fault_config, list):
        fault_config = {"rules": fault_config}
    if args.seed is not None:
        fault_config["seed"] = args.seed
    server = create_server(state, FaultInjector(fault_config), args.host, args.port, args.verbose)
    servers = [server]
    if args.tls_cert:
        servers.append(create_server(state, host=args.host, port=args.tls_port, verbose=args.verbose, app=server.app,
                                     tls=(args.tls_cert, args.tls_key)))

    stop = threading.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        signal.signal(signum, lambda *_: stop.set())
    threads = [threading.Thread(target=one.serve_forever, kwargs={"poll_interval": 0.1}, daemon=True)
               for one in servers]
    for thread in threads:
        thread.start()
    if len(servers) > 1 and args.tls_port_file:
        write_port_file(args.tls_port_file, servers[1].server_port)
    if args.port_file:
        write_port_file(args.port_file, server.server_port)
    print(f"http://{args.host}:{server.server_port}", flush=True)
    if len(servers) > 1:
        print(f"https://{args.host}:{servers[1].server_port}", flush=True)
    while not stop.wait(0.5):
        pass
    server.app.late_writes.cancel()
    for one, thread in zip(servers, threads):
        one.shutdown()
        one.server_close()
        thread.join()
    return 0
