"""The Flask application: kiosk pages, staff console, JSON API and the `linli` CLI.

This is the composition root: it may import both ``booking`` and ``devices``.
The factory starts no scheduler and no MQTT client; ``linli worker`` does.
"""

from __future__ import annotations

import os
from typing import Any

from flask import Flask

from kiosk import config as cfg


def create_app(test_config: dict[str, Any] | None = None) -> Flask:
    app = Flask(
        __name__,
        instance_path=os.environ.get("LINLI_INSTANCE_PATH") or None,
        instance_relative_config=True,
    )
    app.config.from_mapping(cfg.DEFAULTS)
    app.config.from_prefixed_env("LINLI")
    if test_config is not None:
        app.config.from_mapping(test_config)
    # Private: it keeps the secret key, the bridge's password and, by default, the database.
    os.makedirs(app.instance_path, mode=0o700, exist_ok=True)
    app.config.setdefault("DATABASE_URL", cfg.default_database_url(app.instance_path))
    if not app.config.get("SECRET_KEY"):
        app.config["SECRET_KEY"] = cfg.load_or_create_secret_key(app.instance_path)
    app.config["BABEL_DEFAULT_TIMEZONE"] = app.config["TIMEZONE"]

    # Refused device messages may hold health data: loading this registers them with
    # booking.health.operations, so withdrawals and the retention purge reach them (booking imports
    # nothing of devices).
    import devices.ingest.dead_letters  # noqa: F401
    from kiosk import cookie_session, extensions

    extensions.init_app(app)
    cookie_session.init_app(app)

    from kiosk import input_guard, json_provider, security_headers, tls, url_ids

    url_ids.init_app(app)
    input_guard.init_app(app)
    json_provider.init_app(app)

    tls.init_app(app)
    security_headers.init_app(app)

    from kiosk import request_reads, warm_process

    request_reads.init_app(app)
    warm_process.init_app(app)

    from kiosk import csrf, i18n, template_fragments, template_icons, template_urls

    i18n.init_app(app)
    csrf.init_app(app)
    template_urls.init_app(app)
    template_icons.init_app(app)
    template_fragments.init_app(app)

    from kiosk.touch import bp as touch_bp

    app.register_blueprint(touch_bp)

    from kiosk.mobile import bp as mobile_bp

    app.register_blueprint(mobile_bp)

    from kiosk import api, errors
    from kiosk.staff import bp as staff_bp

    errors.init_app(app)
    app.register_blueprint(staff_bp)
    api.init_app(app)

    from kiosk import kiosk_uptime, outage, service_health

    service_health.init_app(app)
    kiosk_uptime.init_app(app)

    from kiosk.touch.reader import next_read

    next_read.init_app(app)
    outage.init_app(app)

    return app
