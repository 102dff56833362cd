"""Connecting to Ray, for the stages that run on it (``--engine ray``): an existing cluster
(``--ray-address``, else ``RAY_ADDRESS``), or a local instance started for this command.

Ray is optional (``pip install 'tripwire[ray]'``) and imported only when an engine asks for it.
"""

from __future__ import annotations

import os
import socket
from typing import Any

from tripwire.errors import UnavailableError

ADDRESS_ENV = "RAY_ADDRESS"
CONNECT_TIMEOUT_S = 10.0


def import_ray() -> Any:
    """The ``ray`` module, or UnavailableError naming the extra to install."""
    try:
        import ray
    except ImportError as exc:
        raise UnavailableError(
            "--engine ray", "Ray is not installed; install it with: pip install 'tripwire[ray]'"
        ) from exc
    return ray


def connect(address: str | None = None, num_cpus: int | None = None) -> bool:
    """Connect this process to Ray unless it already is. ``address`` (else ``$RAY_ADDRESS``):
    join that cluster; neither: start a local instance of ``num_cpus`` CPUs. True when this
    call connected (the caller disconnects with ``ray.shutdown()`` when done); False when the
    process was connected before (someone else's connection: leave it)."""
    ray = import_ray()
    if ray.is_initialized():
        return False
    address = address or os.environ.get(ADDRESS_ENV) or None
    # the driver's own logging stays as tripwire set it; workers' output stays in Ray's logs
    quiet = {"log_to_driver": False, "configure_logging": False}
    if address is None:
        ray.init(num_cpus=num_cpus, include_dashboard=False, **quiet)
        return True
    _reachable(address)
    try:
        ray.init(address=address, **quiet)
    except (ConnectionError, RuntimeError, ValueError) as exc:
        raise UnavailableError(
            _option(address), f"cannot connect to the Ray cluster ({exc})"
        ) from exc
    return True


def _reachable(address: str) -> None:
    """A ``host:port`` no one listens on fails now, in one line: Ray itself retries for
    minutes. (``auto`` and ``ray://`` addresses are left to Ray.)"""
    host, sep, port = address.rpartition(":")
    if not sep or "://" in address or not port.isdigit():
        return
    try:
        socket.create_connection((host, int(port)), timeout=CONNECT_TIMEOUT_S).close()
    except OSError as exc:
        raise UnavailableError(
            _option(address), f"no Ray cluster answers at {address} ({exc.strerror or exc})"
        ) from exc


def _option(address: str) -> str:
    """What the user set: ``--ray-address ADDRESS`` or ``RAY_ADDRESS ADDRESS``."""
    return f"{ADDRESS_ENV if os.environ.get(ADDRESS_ENV) == address else '--ray-address'} {address}"


def disconnect() -> None:
    """Leave Ray (a local instance this process started stops with it)."""
    import_ray().shutdown()
