"""The worker's limit of open files, raised where a district needs it."""

from __future__ import annotations

import logging
import resource

log = logging.getLogger(__name__)


def allow_open_files() -> None:
    """Raise this process's soft limit of open files to its hard limit.

    A worker of several centres holds three to five sockets a centre (a bridge's connection,
    paho's wake-up pair and, in the leader, its command sender's) besides its database's:
    1,016 in the leader of 200 centres in bench/district.py, more while a takeover's bridges
    start. systemd, like most shells, gives a service a soft limit of 1024 and a hard one far
    above it; past the soft one a bridge cannot open its socket, and its centre goes unheard.
    """
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    # Linux refuses an unlimited number of files (fs.nr_open caps it); 2**20 is its default.
    wanted = hard if hard != resource.RLIM_INFINITY else 1 << 20
    if soft != resource.RLIM_INFINITY and soft < wanted:
        try:
            resource.setrlimit(resource.RLIMIT_NOFILE, (wanted, hard))
        except (ValueError, OSError) as error:
            log.warning("could not raise the open-files limit from %d: %s", soft, error)
